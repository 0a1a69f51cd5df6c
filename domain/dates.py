"""Fuzzy dates: the EDTF subset the record accepts, with precision and bounds."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from enum import Enum

import edtf

_SUPPORTED = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?([?~%])?$")


class Precision(Enum):
    """How much of a date is known."""

    YEAR = "YEAR"
    MONTH = "MONTH"
    DAY = "DAY"


class InvalidDate(ValueError):
    """A string is not a supported EDTF date."""


@dataclass(frozen=True, order=True)
class FuzzyDate:
    """A date known to some precision, maybe uncertain (?) or approximate (~)."""

    edtf: str

    def __post_init__(self) -> None:
        _parse(self.edtf)

    @property
    def precision(self) -> Precision:
        return _parse(self.edtf)[0]

    @property
    def earliest(self) -> dt.date:
        return _parse(self.edtf)[1]

    @property
    def latest(self) -> dt.date:
        return _parse(self.edtf)[2]

    @property
    def uncertain(self) -> bool:
        return self.edtf[-1] in "?%"

    @property
    def approximate(self) -> bool:
        return self.edtf[-1] in "~%"

    def __str__(self) -> str:
        return self.edtf


_CACHE: dict[str, tuple[Precision, dt.date, dt.date]] = {}


def _parse(text: str) -> tuple[Precision, dt.date, dt.date]:
    cached = _CACHE.get(text)
    if cached is not None:
        return cached
    match = _SUPPORTED.match(text) if isinstance(text, str) else None
    if match is None:
        raise InvalidDate(
            f"{text!r} is not a supported EDTF date "
            "(use YYYY, YYYY-MM or YYYY-MM-DD, optionally followed by ?, ~ or %)"
        )
    try:
        parsed = edtf.parse_edtf(text)
        low, high = parsed.lower_strict(), parsed.upper_strict()
    except (edtf.EDTFParseException, ValueError, TypeError) as exc:
        raise InvalidDate(f"{text!r} is not a valid calendar date") from exc
    precision = (
        Precision.DAY if match.group(3) else Precision.MONTH if match.group(2) else Precision.YEAR
    )
    try:
        # edtf accepts some impossible days (2023-02-29); the calendar is the judge.
        earliest = dt.date(low.tm_year, low.tm_mon, low.tm_mday)
        latest = dt.date(high.tm_year, high.tm_mon, high.tm_mday)
        if precision is Precision.DAY:
            dt.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError as exc:
        raise InvalidDate(f"{text!r} is not a valid calendar date") from exc
    result = (precision, earliest, latest)
    if len(_CACHE) < 100_000:
        _CACHE[text] = result
    return result


def parse_fuzzy_date(text: str) -> FuzzyDate:
    """Parse an EDTF string, raising InvalidDate with a readable message."""
    return FuzzyDate(text)
