"""Arguments that name a country, weapon, treaty or indicator: unknown ones are errors.

An empty answer must mean "nothing recorded about this", never "no such thing": a country
that is not an ISO 3166-1 alpha-3 code, or a weapon, category, treaty or indicator the record
does not know, is refused with a message naming the argument."""

from __future__ import annotations

from domain.errors import FieldError, InvalidInput
from domain.values import WEAPON_CATEGORIES, WORLD, country_name
from projections.readmodels.queries import ReadModel

SHOWN = 60
"""Characters of a refused value repeated in the message: enough to recognise it, no more."""


def _shown(value: str) -> str:
    return repr(value if len(value) <= SHOWN else value[:SHOWN] + "…")


def _refuse(argument: str, message: str) -> InvalidInput:
    return InvalidInput([FieldError((argument,), message)])


def check_country(argument: str, value: str) -> str:
    """`value` if it is an ISO 3166-1 alpha-3 code (UKR), else an error naming `argument`."""
    if country_name(value) is None:
        raise _refuse(
            argument, f"{_shown(value)} is not an ISO 3166-1 alpha-3 country code (such as UKR)"
        )
    return value


def check_scope(argument: str, value: str) -> str:
    """WORLD or a country code."""
    return value if value == WORLD else check_country(argument, value)


def check_record(read: ReadModel, kind: str, argument: str, value: str) -> str:
    """`value` if a record of `kind` (weapon, treaty) has that id, else an error."""
    if not read.record_exists(kind, value):
        raise _refuse(argument, f"unknown {kind} {_shown(value)}")
    return value


def check_category(read: ReadModel, argument: str, value: str) -> str:
    """A category of the controlled list or one a recorded weapon introduced."""
    if value not in WEAPON_CATEGORIES and not read.record_exists("category", value):
        raise _refuse(argument, f"unknown weapon category {_shown(value)}")
    return value


def check_indicator(read: ReadModel, argument: str, value: str) -> str:
    """An indicator some observation was recorded for (the `indicators` query lists them)."""
    if not read.indicator_exists(value):
        raise _refuse(argument, f"unknown indicator {_shown(value)}; see the indicators query")
    return value
