"""A country's figures: its observations, with conflicting sources and estimates marked."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from babel.numbers import format_decimal

from api.embed import translated
from api.embed.params import View
from api.embed.story import Source, sources
from api.text.display import LOCALES, display_edtf
from projections.readmodels.documents import ObservationDoc
from projections.readmodels.queries import ReadModel

MAX_FIGURES = 50  # a page shows the latest figures of its country, not a whole data set


@dataclass
class Figure:
    """One observation of the country's figures."""

    label: str
    period: str
    value: str
    unit: str | None
    estimate: bool
    conflict: bool
    note: str | None
    sources: list[Source]
    langs: dict[str, str] = field(default_factory=dict)
    """The language each of label, unit and note is shown in."""


def _number(value: object, lang: str) -> str:
    try:
        return format_decimal(Decimal(str(value)), locale=LOCALES.get(lang, "en_GB"))
    except (InvalidOperation, ValueError):
        return str(value)


def load_figures(
    read: ReadModel, view: View, rows: list[ObservationDoc] | None = None
) -> list[Figure]:
    """The country's figures (observations), newest period first, conflicts and estimates
    marked; `rows` when the page already read them (`observations_in`'s answer)."""
    if view.kind != "country":
        return []
    if rows is None:
        rows = read.observations_in(view.key, as_of=view.as_of, limit=MAX_FIGURES)
    rows.sort(key=lambda r: (str(r["period"]), str(r["indicator"])), reverse=True)
    ids = {str(r["id"]) for r in rows}
    texts = translated.translations(read, "observation", ids, view.lang, view.as_of)
    figures = []
    for r in rows:
        original = str(r.get("label") or str(r["indicator"]).replace("-", " "))
        shown = {
            name: translated.text(texts, str(r["id"]), name, value, view.lang)
            for name, value in [
                ("label", original),
                ("unit", r.get("unit")),
                ("note", r.get("note")),
            ]
        }
        label = str(shown["label"][0])
        figures.append(
            Figure(
                label=label[:1].upper() + label[1:],
                period=display_edtf(str(r["period"]), view.lang),
                value=_number(r["value"], view.lang),
                unit=shown["unit"][0],
                estimate=r.get("basis") == "ESTIMATE",
                conflict=bool(r.get("conflict")),
                note=shown["note"][0],
                sources=sources(r.get("sources") or [], view.lang),
                langs={name: lang for name, (_, lang) in shown.items()},
            )
        )
    return figures
