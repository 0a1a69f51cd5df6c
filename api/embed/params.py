"""The query parameters every embed URL shares, checked with errors that name the field."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from urllib.parse import urlencode

import pycountry

from api.embed.labels import LANGS
from domain.dates import FuzzyDate, InvalidDate
from domain.errors import PolicyRecordError
from projections.readmodels.queries import MAX_PAGE, decode_cursor

THEMES = ("light", "dark", "contrast")
KINDS = ("country", "system", "category")
MAX_DIGITS = 18
"""Longest whole number a parameter may hold: below 2^63, so every database column fits it."""


class BadParameter(ValueError):
    """A query parameter a user sent is wrong; the message names it."""


@dataclass(frozen=True)
class View:
    """One timeline view: which timeline, which slice, how it looks."""

    kind: str
    key: str
    from_: str | None = None
    to: str | None = None
    as_of: int | None = None
    theme: str = "light"
    lang: str = "en"
    first: int = MAX_PAGE
    after: str | None = None
    before: str | None = None

    def query(self, **changes: object) -> str:
        """This view's query string, with some fields changed (None drops a field)."""
        view = replace(self, **changes)  # type: ignore[arg-type]
        pairs: list[tuple[str, str]] = [(view.kind, view.key)]
        optional = [
            ("from", view.from_),
            ("to", view.to),
            ("asOf", view.as_of),
            ("theme", None if view.theme == "light" else view.theme),
            ("lang", None if view.lang == "en" else view.lang),
            ("first", None if view.first == MAX_PAGE else view.first),
            ("after", view.after),
            ("before", view.before),
        ]
        pairs += [(name, str(value)) for name, value in optional if value is not None]
        return urlencode(pairs)


def _choice(params: Mapping[str, str], name: str, allowed: tuple[str, ...]) -> str:
    value = params.get(name, allowed[0])
    if value not in allowed:
        raise BadParameter(f"{name}: {value!r} is not one of {', '.join(allowed)}")
    return value


def whole_number(text: str) -> int | None:
    """The number `text` writes in 1 to 18 ASCII digits, else None (str.isdigit takes '²')."""
    if 0 < len(text) <= MAX_DIGITS and text.isascii() and text.isdigit():
        return int(text)
    return None


def _int(params: Mapping[str, str], name: str, low: int, high: int | None = None) -> int | None:
    text = params.get(name)
    if text is None or text == "":
        return None
    value = whole_number(text)
    if value is None or value < low or (high is not None and value > high):
        upper = f" and {high}" if high is not None else f" with at most {MAX_DIGITS} digits"
        raise BadParameter(
            f"{name}: must be a whole number {'between' if high else '≥'} {low}{upper}"
        )
    return value


def _date(params: Mapping[str, str], name: str) -> str | None:
    text = params.get(name) or None
    if text is not None:
        try:
            FuzzyDate(text)
        except InvalidDate as exc:
            raise BadParameter(f"{name}: {exc}") from None
    return text


def _cursor(params: Mapping[str, str], name: str) -> str | None:
    text = params.get(name) or None
    if text is not None:
        try:
            decode_cursor(text)
        except PolicyRecordError:
            raise BadParameter(f"{name}: not a cursor from this timeline's links") from None
    return text


def parse_view(params: Mapping[str, str]) -> View:
    """The view a query string asks for, or BadParameter naming the wrong field."""
    given = [k for k in KINDS if params.get(k)]
    if len(given) != 1:
        raise BadParameter("give exactly one of country, system or category")
    kind = given[0]
    key = params[kind].strip()
    if kind == "country":
        key = key.upper()
        if len(key) != 3 or pycountry.countries.get(alpha_3=key) is None:
            raise BadParameter(f"country: {params[kind]!r} is not an ISO 3166-1 alpha-3 code")
    view = View(
        kind=kind,
        key=key,
        from_=_date(params, "from"),
        to=_date(params, "to"),
        as_of=_int(params, "asOf", 0),
        theme=_choice(params, "theme", THEMES),
        lang=_choice(params, "lang", LANGS),
        first=_int(params, "first", 1, MAX_PAGE) or MAX_PAGE,
        after=_cursor(params, "after"),
        before=_cursor(params, "before"),
    )
    if view.after and view.before:
        raise BadParameter("after, before: give at most one of them")
    return view
