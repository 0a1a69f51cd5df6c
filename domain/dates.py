"""Fuzzy dates: the EDTF subset the record accepts, with precision and bounds."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
from typing import NoReturn

# ASCII digits only: `\d` would also take full-width or Arabic-Indic digits, which `int` reads.
_SUPPORTED = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?([?~%])?\Z", re.ASCII)


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


def _parse(text: str) -> tuple[Precision, dt.date, dt.date]:
    """Precision and bounds of a supported EDTF date.

    The bounds are computed here rather than by `edtf.parse_edtf`, which costs about 10 ms
    per new string; tests check that both agree on every form this module accepts.
    """
    return _parse_cached(text) if isinstance(text, str) else _refuse(text)


@lru_cache(maxsize=65_536)
def _parse_cached(text: str) -> tuple[Precision, dt.date, dt.date]:
    match = _SUPPORTED.match(text)
    if match is None:
        _refuse(text)
    year, month, day = match.group(1), match.group(2), match.group(3)
    try:
        if day is not None:
            earliest = latest = dt.date(int(year), int(month), int(day))
            return Precision.DAY, earliest, latest
        if month is not None:
            first = dt.date(int(year), int(month), 1)
            last = dt.date(first.year, first.month, calendar.monthrange(first.year, first.month)[1])
            return Precision.MONTH, first, last
        return Precision.YEAR, dt.date(int(year), 1, 1), dt.date(int(year), 12, 31)
    except ValueError as exc:
        raise InvalidDate(f"{text!r} is not a valid calendar date") from exc


def _refuse(text: object) -> NoReturn:
    raise InvalidDate(
        f"{text!r} is not a supported EDTF date "
        "(use YYYY, YYYY-MM or YYYY-MM-DD, optionally followed by ?, ~ or %)"
    )


def parse_fuzzy_date(text: str) -> FuzzyDate:
    """Parse an EDTF string, raising InvalidDate with a readable message."""
    return FuzzyDate(text)
