"""The rest of each entry's story: officials, certainty, flags, reactions, corrections."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup, escape

from api.embed import translated
from api.embed.params import View
from api.text.catalogs import N_, tr
from api.text.display import display_day, display_edtf
from projections.readmodels.documents import (
    DecisionDoc,
    HistoryStep,
    SourceDoc,
    StatementDoc,
    TreatyDoc,
)
from projections.readmodels.pagereads import PageReads
from projections.readmodels.queries import ReadModel

STANCES = {
    "SUPPORTS": N_("{speaker} supports the decision"),
    "CONDEMNS": N_("{speaker} condemns the decision"),
    "CONCERNED": N_("{speaker} is concerned by the decision"),
    "NEUTRAL": N_("{speaker} takes no side"),
}
CERTAINTY = {
    "REPORTED": N_("Reported by others, not announced by the deciding side"),
    "DISPUTED": N_("Disputed: the sources disagree"),
}
DATE_ROLES = {
    "decidedOn": N_("Decided"),
    "announcedOn": N_("Announced"),
    "effectiveOn": N_("In effect"),
    "reportedOn": N_("Reported"),
}
MAX_REACTIONS = 10  # per entry: the page stays readable however many statements are recorded
FIELDS = {
    "headline": N_("headline"),
    "summary": N_("summary"),
    "scope": N_("scope"),
    "action": N_("action"),
    "recipient": N_("recipient"),
    "treaty": N_("treaty"),
    "weapons": N_("weapons"),
    "officials": N_("officials"),
    "decidedOn": N_("decision date"),
    "announcedOn": N_("announcement date"),
    "effectiveOn": N_("date in effect"),
    "reportedOn": N_("report date"),
    "certainty": N_("certainty"),
}


@dataclass
class Source:
    """A source as shown: once per entry, however many of its quotes the record cites."""

    publisher: str
    title: str | None
    url: str | None
    archive_url: str | None
    published: str | None


@dataclass
class Reaction:
    """A statement about a decision: who, which way, in their words."""

    said: Markup
    quote: str | None
    translation: str | None
    date: str | None
    sources: list[Source]


@dataclass
class Correction:
    """What a correction changed and why, with the views before and after it."""

    date: str
    reason: str
    changed: str
    sources: list[Source]
    before: str
    after: str


@dataclass
class Story:
    """Everything about one decision beyond its timeline row."""

    decided_by: list[tuple[str, str | None]] = field(default_factory=list)
    announced_by: list[tuple[str, str | None]] = field(default_factory=list)
    certainty: str | None = None
    dates: list[tuple[str, str, str]] = field(default_factory=list)
    flags: list[tuple[tuple[str, str], str]] = field(default_factory=list)
    reactions: list[Reaction] = field(default_factory=list)
    more_reactions: int = 0
    corrections: list[Correction] = field(default_factory=list)
    retraction: Correction | None = None


def _web(url: object) -> str | None:
    safe = isinstance(url, str) and url.lower().startswith(("https://", "http://"))
    return url if safe else None  # type: ignore[return-value]


def sources(raw: list[SourceDoc], lang: str) -> list[Source]:
    """Sources with links only to web addresses, each (url, or publisher and title) once."""
    shown: dict[tuple[str | None, ...], Source] = {}
    for s in raw:
        url = s.get("url")
        if url is not None:
            url = _web(url)
        key = (url,) if url else (None, s.get("publisher"), s.get("title"))
        if key not in shown:
            archive, published = s.get("archiveUrl"), s.get("publishedOn")
            shown[key] = Source(
                str(s.get("publisher", "")),
                s.get("title"),
                url,
                _web(archive) if archive is not None else None,
                display_edtf(published, lang) if published else None,
            )
    return list(shown.values())


def _officials(doc: DecisionDoc) -> tuple[list[tuple[str, str | None]], ...]:
    decided: list[tuple[str, str | None]] = []
    announced: list[tuple[str, str | None]] = []
    for person in doc.get("officials") or []:
        who = (str(person["name"]), person.get("office"))
        (announced if person.get("announced") else decided).append(who)
    return decided, announced


def _dates(doc: Mapping[str, Any], lang: str) -> list[tuple[str, str, str]]:
    roles = [role for role in DATE_ROLES if doc.get(role)]
    if roles == ["decidedOn"]:
        return []  # the entry's own date already says it
    return [
        (tr(lang, label), str(doc[role]).rstrip("?~%"), display_edtf(str(doc[role]), lang))
        for role, label in DATE_ROLES.items()
        if doc.get(role)
    ]


def _pinned(view: View, position: int, decision: str) -> str:
    return f"?{view.query(as_of=position, after=None, before=None)}#{decision}"


def _change(view: View, decision: str, row: HistoryStep) -> Correction:
    lang = view.lang
    changed = [tr(lang, FIELDS.get(name, name)) for name in row.get("fields") or []]
    return Correction(
        date=display_day(str(row["recordedAt"]), lang),
        reason=str(row.get("reason") or ""),
        changed=", ".join(changed),
        sources=sources(row.get("sources") or [], lang),
        before=_pinned(view, row["position"] - 1, decision),
        after=_pinned(view, row["position"], decision),
    )


def load_stories(
    read: ReadModel,
    view: View,
    docs: dict[str, DecisionDoc],
    treaty_names: dict[str, tuple[str, str]],
    found: PageReads,
) -> dict[str, Story]:
    """The story of each decision in `docs`, from the page's reads (`found`: flags, history,
    statements, flagged treaties) and, in another language, one query for the quotes'
    translations."""
    # Imported here: the reasons module names countries and categories with api.embed.labels,
    # so a module-level import would make the two packages import each other.
    from api.graphql.reasons import flag_reason

    lang = view.lang
    flags, history = found.flags, found.history
    statements: dict[str, list[StatementDoc]] = {}
    for said_doc in found.statements:
        statements.setdefault(said_doc["about"], []).append(said_doc)
    said = {str(d["id"]) for docs in statements.values() for d in docs[:MAX_REACTIONS]}
    quotes = translated.translations(read, "statement", said, lang, view.as_of)
    treaty_docs = {t["id"]: t for t in found.flagged}
    stories = {}
    for decision, doc in docs.items():
        story = Story(certainty=_certainty(doc, lang), dates=_dates(doc, lang))
        story.decided_by, story.announced_by = _officials(doc)
        story.flags = [
            (
                _treaty_name(f["treaty"], treaty_names, treaty_docs),
                flag_reason(f, treaty_docs.get(f["treaty"]), lang),
            )
            for f in flags.get(decision, [])
        ]
        reactions = statements.get(decision, [])
        story.reactions = [_reaction(s, lang, quotes) for s in reactions[:MAX_REACTIONS]]
        story.more_reactions = max(0, len(reactions) - MAX_REACTIONS)
        for row in history.get(decision, []):
            if row["eventType"] == "Corrected":
                story.corrections.append(_change(view, decision, row))
            elif row["eventType"] == "Retracted":
                story.retraction = _change(view, decision, row)
        stories[decision] = story
    return stories


def _treaty_name(
    treaty: str, names: dict[str, tuple[str, str]], docs: dict[str, TreatyDoc]
) -> tuple[str, str]:
    """A flagged treaty's short name, and the language it is in."""
    if treaty in names:
        return names[treaty]
    doc = docs.get(treaty)
    return (doc.get("shortName") or doc["name"] if doc else treaty), "en"


def _certainty(doc: DecisionDoc, lang: str) -> str | None:
    message = CERTAINTY.get(str(doc.get("certainty") or "OFFICIAL"))
    return tr(lang, message) if message else None


def _reaction(doc: StatementDoc, lang: str, quotes: translated.Texts) -> Reaction:
    message = STANCES.get(str(doc.get("stance")), STANCES["NEUTRAL"])
    made = doc.get("madeOn")
    # The speaker's name is record text: isolated, as everywhere on the page.
    speaker = Markup("<bdi>{}</bdi>").format(doc["by"]["name"])
    return Reaction(
        said=escape(tr(lang, message)).format(speaker=speaker),
        quote=doc.get("quote"),
        # The words said stay verbatim; a recorded translation is shown beside them.
        translation=quotes[doc["id"]]["fields"].get("quote") if doc["id"] in quotes else None,
        date=display_edtf(made, lang) if made else None,
        sources=sources(doc.get("sources") or [], lang),
    )


def field_label(name: str, lang: str) -> str:
    """A decision field's name in words ('scope', 'portée')."""
    return tr(lang, FIELDS.get(name, name))
