"""The same timeline as TimelineJS3 JSON, so a newsroom can switch its data source."""

from __future__ import annotations

from typing import Any

from markupsafe import Markup, escape

from api.embed.labels import category_label
from api.embed.story import field_label
from api.embed.timeline import Entry, TimelinePage
from api.text.catalogs import tr
from domain.dates import Precision

MAX_EVENTS = 1000


def start_date(entry: Entry) -> dict[str, Any]:
    """Only the known parts of the date, and always `display_date` in the view's language
    (without it TimelineJS writes exact days in US English beside our localized ones)."""
    date = entry.date
    parts: dict[str, Any] = {"year": date.earliest.year}
    if date.precision is not Precision.YEAR:
        parts["month"] = date.earliest.month
    if date.precision is Precision.DAY:
        parts["day"] = date.earliest.day
    parts["display_date"] = entry.date_text
    return parts


def _text(entry: Entry, lang: str) -> str:
    parties = entry.actor + (f" → {entry.recipient}" if entry.recipient else "")
    html = [Markup("<p>{}</p>").format(f"{entry.action_label} · {parties}")]
    if entry.summary:
        html.append(Markup("<p>{}</p>").format(entry.summary))
    if entry.scope:
        scope = tr(lang, "Scope: {scope}").format(scope=entry.scope)
        html.append(Markup("<p>{}</p>").format(scope))
    if entry.stale:
        fields = ", ".join(field_label(name, lang) for name in entry.stale)
        note = tr(lang, "Translated before a correction of the original: %(fields)s")
        html.append(Markup("<p><em>{}</em></p>").format(note % {"fields": fields}))
    links = [
        Markup('<a href="{}" rel="noopener noreferrer nofollow" target="_blank">{}</a>').format(
            s.url, s.publisher
        )
        if s.url
        else escape(s.publisher)
        for s in entry.sources
    ]
    if links:
        label = escape(tr(lang, "Sources: {sources}"))
        html.append(Markup("<p>{}</p>").format(label.format(sources=Markup(", ").join(links))))
    return str(Markup("").join(html))


def event(entry: Entry, kind: str, lang: str) -> dict[str, Any]:
    """One TimelineJS slide for a decision."""
    if kind == "country":
        group = entry.role_label or ""
    else:
        group = category_label(entry.categories[0], lang) if entry.categories else ""
    slide: dict[str, Any] = {
        "start_date": start_date(entry),
        "text": {"headline": str(escape(entry.headline)), "text": _text(entry, lang)},
        "unique_id": entry.id,
    }
    if group:
        slide["group"] = group
    return slide


def document(pages: list[TimelinePage], more: str | None) -> dict[str, Any]:
    """The TimelineJS3 document; `next` names the rest when it was cut at MAX_EVENTS."""
    first = pages[0]
    view = first.view
    note = tr(view.lang, "As recorded at log position {position}").format(position=first.position)
    doc: dict[str, Any] = {
        "title": {
            "text": {
                "headline": str(escape(first.title)),
                "text": str(escape(note)),
            }
        },
        "events": [event(e, view.kind, view.lang) for p in pages for e in p.shown],
    }
    if more:
        doc["next"] = more
    return doc
