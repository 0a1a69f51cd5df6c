"""One page of a timeline with everything an embed shows: names, sources, reversals."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast
from urllib.parse import urlencode

from api.embed import translated
from api.embed.figures import MAX_FIGURES, Figure, load_figures
from api.embed.labels import action_label, category_label, country_name, role_label
from api.embed.params import View
from api.embed.story import Source, Story, load_stories, sources
from api.text.catalogs import tr
from api.text.display import display_edtf
from domain.dates import FuzzyDate
from domain.values import ORIGINAL_LANG
from projections.eventlog.batching import gc_paused
from projections.readmodels.documents import DecisionDoc, TreatyDoc, WeaponDoc
from projections.readmodels.pagereads import PageReads, page_reads
from projections.readmodels.queries import ReadModel
from projections.service import Store

RELATIONS = ("reverses", "departsFrom")
"""How decisions link to each other on the page: each shown both ways."""


@dataclass
class Link:
    """A link to another decision."""

    id: str
    headline: str
    href: str
    lang: str = "en"


@dataclass
class Entry:
    """One decision as an embed shows it."""

    id: str
    headline: str
    action: str
    action_label: str
    actor: str
    recipient: str | None
    treaty: str | None
    scope: str | None
    weapons: list[str]
    categories: list[str]
    role: str | None
    role_label: str | None
    status: str
    edtf: str
    datetime: str
    date_text: str
    date: FuzzyDate
    summary: str | None = None
    sources: list[Source] = field(default_factory=list)
    story: Story = field(default_factory=Story)
    reverses: list[Link] = field(default_factory=list)
    reversed_by: list[Link] = field(default_factory=list)
    departs_from: list[Link] = field(default_factory=list)
    departed_from_by: list[Link] = field(default_factory=list)
    langs: dict[str, str] = field(default_factory=dict)
    """The language each of headline, summary and scope is shown in (the view's, or en)."""
    stale: list[str] = field(default_factory=list)
    """Translated fields whose original was corrected after they were translated."""
    treaty_lang: str = "en"


@dataclass
class TimelinePage:
    """A page of entries with its neighbours' cursors and the position it reflects."""

    view: View
    title: str
    entries: list[Entry]
    earlier: str | None
    later: str | None
    position: int
    figures: list[Figure] = field(default_factory=list)

    @property
    def shown(self) -> list[Entry]:
        """The entries that stand (a retracted one is only announced where it was)."""
        return [e for e in self.entries if e.status != "RETRACTED"]


def projected_position(store: Store, view: View) -> int:
    """The log position this view's answer reflects."""
    applied = store.projector.position("timelines")
    return applied if view.as_of is None else min(view.as_of, applied)


def read_state(store: Store, read: ReadModel | None = None) -> tuple[int, int]:
    """Where the read models a page is read from stand: the slowest projection (flags are
    kept after the timelines) and the timelines. One read of the tracking rows, on `read`'s
    connection when it is pinned."""
    with (read or store.read).engine.connect() as conn:
        positions = store.projector.positions(conn=conn)
    return min(positions.values(), default=0), positions.get("timelines", 0)


def position_at(view: View, state: tuple[int, int]) -> int:
    """The log position a view's answer reflects when the read models stand at `state`."""
    applied = state[1]
    return applied if view.as_of is None else min(view.as_of, applied)


def view_title(read: ReadModel, view: View) -> str:
    """'Decisions involving Ukraine', in the view's language."""
    if view.kind == "country":
        name = country_name(view.key, view.lang)
    elif view.kind == "system":
        weapons = read.records("weapon", ids=[view.key], as_of=view.as_of)
        name = weapons[0].get("designation") or weapons[0]["name"] if weapons else view.key
    else:
        name = category_label(view.key, view.lang)
    if view.kind == "country":
        title = tr(view.lang, "Decisions involving {name}").format(name=name)
    else:
        title = tr(view.lang, "Decisions about {name}").format(name=name)
    return title[:1].upper() + title[1:]  # a category name may open the title


def _names(
    read: ReadModel,
    wanted: dict[str, set[str]],
    as_of: int | None,
    lang: str,
    records: dict[str, list[Any]] | None = None,
) -> dict[str, dict[str, tuple[str, str]]]:
    """Short names of treaties and weapons by kind and id, each with the language it is in
    (the records of both kinds in one query, unless already read)."""
    if records is None:
        records = read.records_by_kind({k: sorted(ids) for k, ids in wanted.items()}, as_of)
    names: dict[str, dict[str, tuple[str, str]]] = {}
    for kind, ids in wanted.items():
        found = cast(list[TreatyDoc | WeaponDoc], records[kind])
        texts = translated.translations(read, kind, ids, lang, as_of)
        names[kind] = {
            r["id"]: (translated.name(texts, r), translated.name_lang(texts, r, lang))
            for r in found
        }
    return names


def _first_date(doc: DecisionDoc) -> str | None:
    return (
        doc.get("decidedOn")
        or doc.get("announcedOn")
        or doc.get("effectiveOn")
        or doc.get("reportedOn")
    )


def _links(
    view: View,
    related: dict[str, list[str]],
    on_page: set[str],
    docs: dict[str, DecisionDoc],
    texts: translated.Texts,
) -> dict[str, list[Link]]:
    """Links to related decisions: an anchor on this page, else the actor's timeline there."""
    links: dict[str, list[Link]] = {}
    for source, ids in related.items():
        for other in ids:
            doc = docs.get(other)
            if doc is None:
                continue
            if other in on_page:
                href = f"#{other}"
            else:
                query: dict[str, str] = {"country": doc["actor"]}
                start = _first_date(doc)
                if start:
                    query["from"] = start.rstrip("?~%")
                query |= {k: v for k, v in view_extras(view).items()}
                href = f"?{urlencode(query)}#{other}"
            headline, lang = translated.text(texts, other, "headline", doc["headline"], view.lang)
            links.setdefault(source, []).append(Link(other, str(headline), href, lang))
    return links


def view_extras(view: View) -> dict[str, str]:
    """The parameters a link to another view keeps: record position, theme, language."""
    extras = {"asOf": str(view.as_of) if view.as_of is not None else None}
    extras |= {"theme": view.theme if view.theme != "light" else None}
    extras |= {"lang": view.lang if view.lang != "en" else None}
    return {k: v for k, v in extras.items() if v is not None}


def load_page(
    store: Store, view: View, *, details: bool = True, position: int | None = None
) -> TimelinePage:
    """The entries of one page of a view, with sources and reversal links when `details`.

    `position` is the log position the caller already read for this view (its ETag's)."""
    # Every read of the page on one connection: one checkout for a dozen queries.
    with store.read.pinned() as read:
        return read_page(store, read, view, details=details, position=position)


def read_page(
    store: Store,
    read: ReadModel,
    view: View,
    *,
    details: bool = True,
    position: int | None = None,
) -> TimelinePage:
    """`load_page` on the read model `read` (a caller's pinned block, which may read more on
    its connection); without a `position`, the read models' own, read there.

    The collector's automatic passes are paused meanwhile (`gc_paused`): the page's reads and
    entries allocate thousands of containers without cycles, which reference counting frees,
    and each pass in the middle walked those still in use again."""
    if position is None:
        position = position_at(view, read_state(store, read))
    with gc_paused():
        return _read_page(read, view, details, position)


def _read_page(read: ReadModel, view: View, details: bool, position: int) -> TimelinePage:
    page = read.timeline(
        view.kind,
        view.key,
        first=view.first,
        after=view.after,
        before=view.before,
        from_=view.from_,
        to=view.to,
        as_of=view.as_of,
        # Kept in their place so that an old permalink (#decision-id) lands on the notice.
        include_retracted=details,
    )
    raw = page.entries
    ids = [e["decisionId"] for e in raw]
    systems = {named for e in raw for w in e["weapons"] if (named := w["system"])}
    treaties = {named for e in raw if (named := e["treaty"])}
    wanted = {"weapon": systems, "treaty": treaties}
    found: PageReads | None = None
    linked: dict[tuple[str, bool], dict[str, list[str]]] = {}
    others: set[str] = set()
    if details and ids:
        # Links, decisions, names, flags, history, statements and figures: one statement on
        # PostgreSQL.
        found = page_reads(
            read,
            ids,
            RELATIONS,
            {kind: sorted(named) for kind, named in wanted.items()},
            scope=view.key if view.kind == "country" else None,
            figures=MAX_FIGURES,
            as_of=view.as_of,
        )
        linked = found.linked
        others = {i for side in linked.values() for found_ids in side.values() for i in found_ids}
    on_page = set(ids)
    known = found.decisions if found is not None else {}
    docs = {i: known[i] for i in ids if i in known}
    records = found.names if found is not None else None
    names = _names(read, wanted, view.as_of, view.lang, records)
    weapon_names, treaty_names = names["weapon"], names["treaty"]
    reverses: dict[str, list[Link]] = {}
    reversed_by: dict[str, list[Link]] = {}
    departs: dict[str, list[Link]] = {}
    departed: dict[str, list[Link]] = {}
    texts = translated.translations(read, "decision", on_page | others, view.lang, view.as_of)
    if linked:
        reverses, reversed_by, departs, departed = (
            _links(view, linked[relation, inverse], on_page, known, texts)
            for relation in RELATIONS
            for inverse in (False, True)
        )
    stories = load_stories(read, view, docs, treaty_names, found) if found is not None else {}
    lang = view.lang
    # Labels by value, looked up once a page: a page repeats a few actions and roles.
    actions: dict[str, str] = {}
    roles: dict[str | None, str | None] = {}
    entries = []
    for e in raw:
        decision = e["decisionId"]
        date = FuzzyDate(e["date"]["edtf"])
        edtf = date.edtf
        doc = docs.get(decision)
        summary = doc.get("summary") if doc else None
        if decision in texts:
            shown = {
                name: translated.text(texts, decision, name, original, lang)
                for name, original in (
                    ("headline", e["headline"]),
                    ("summary", summary),
                    ("scope", e["scope"]),
                )
            }
            headline, summary, scope = (shown[n][0] for n in ("headline", "summary", "scope"))
            langs = {name: shown_lang for name, (_, shown_lang) in shown.items()}
            stale = translated.stale(texts, decision)
        else:  # what `translated.text` answers for a record without a translation
            headline, scope = e["headline"], e["scope"]
            langs = {"headline": ORIGINAL_LANG, "summary": ORIGINAL_LANG, "scope": ORIGINAL_LANG}
            stale = []
        weapons = [
            weapon_names.get(w["system"], (w["system"], lang))[0]
            if w["system"]
            else category_label(w["category"], lang)
            for w in e["weapons"]
        ]
        action, role, actor, recipient = e["action"], e.get("role"), e["actor"], e["recipient"]
        if action not in actions:
            actions[action] = action_label(action, lang)
        if role not in roles:
            roles[role] = role_label(role, lang)
        treaty = treaty_names.get(e["treaty"] or "", (e["treaty"] or "", "en"))
        entries.append(
            Entry(
                id=decision,
                headline=str(headline),
                action=action,
                action_label=actions[action],
                actor=country_name(actor, lang),
                recipient=country_name(recipient, lang) if recipient else None,
                treaty=treaty[0] if e["treaty"] else None,
                treaty_lang=treaty[1],
                scope=scope,
                weapons=weapons,
                categories=[w["category"] for w in e["weapons"] if w.get("category")],
                role=role,
                role_label=roles[role],
                status=e["status"],
                edtf=edtf,
                datetime=edtf.rstrip("?~%"),
                date_text=display_edtf(edtf, lang),
                date=date,
                summary=summary,
                sources=sources(doc.get("sources", []) if doc else [], lang),
                story=stories.get(decision) or Story(),
                reverses=reverses.get(decision, []),
                reversed_by=reversed_by.get(decision, []),
                departs_from=departs.get(decision, []),
                departed_from_by=departed.get(decision, []),
                langs=langs,
                stale=stale,
            )
        )
    placed = bool(page.keys)
    return TimelinePage(
        view=view,
        title=view_title(read, view),
        entries=entries,
        earlier=page.cursor(0) if placed and page.has_previous else None,
        later=page.cursor(-1) if placed and page.has_next else None,
        position=position,
        figures=load_figures(read, view, found.figures if found else None) if details else [],
    )
