"""The read models' documents: what the projections write and every reader gets back.

One declaration per shape, shared by the writers (`timelines`, `membership`, `translations`)
and the readers (`queries`, the GraphQL types, the embeds). Keys are camelCase, as the
records' own content, import lines and the GraphQL schema spell them. Documents stored as
JSON text are parsed into these shapes unchecked: the projection that wrote them is their
only writer, and its version number rebuilds them when a shape changes.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, NotRequired, Required, TypedDict

# --- Parts of records ------------------------------------------------------------------


class SourceDoc(TypedDict, total=False):
    """Where a statement of fact comes from."""

    publisher: Required[str]
    title: str
    url: str
    publishedOn: str
    quote: str
    retrievedOn: str
    archiveUrl: str


class OfficialDoc(TypedDict, total=False):
    """A named official a decision was taken or announced by."""

    name: Required[str]
    office: str
    announced: bool


class WeaponGiven(TypedDict, total=False):
    """A weapon reference as recorded: a system, or a category."""

    system: str
    category: str


class WeaponRef(TypedDict):
    """A weapon reference as read: the system (if named) and always its category."""

    system: str | None
    category: str


class DateDoc(TypedDict):
    """A fuzzy date as the API shows it."""

    edtf: str
    precision: str
    earliest: str
    latest: str
    uncertain: bool
    approximate: bool


# --- Decisions -------------------------------------------------------------------------


class _DecisionText(TypedDict, total=False):
    """The fields a decision records, but its weapons (recorded and read differently)."""

    actor: Required[str]
    action: Required[str]
    headline: Required[str]
    sources: list[SourceDoc]
    officials: list[OfficialDoc]
    recipient: str
    treaty: str
    scope: str
    decidedOn: str
    announcedOn: str
    effectiveOn: str
    reportedOn: str
    certainty: str
    summary: str
    reverses: str
    departsFrom: str
    supersedes: str
    implements: str


class DecisionFields(_DecisionText, total=False):
    """A decision's fields as recorded and corrected (the stored version's `fields`)."""

    weapons: list[WeaponGiven]


class DecisionMeta(TypedDict):
    """When a decision was first recorded: the same for all its versions."""

    firstPosition: int
    firstRecordedAt: str


class DecisionVersion(TypedDict):
    """One version of a decision as stored (`pt_decisions.doc`)."""

    fields: DecisionFields
    meta: DecisionMeta
    weapons: list[WeaponRef]


class DecisionDoc(_DecisionText, total=False):
    """A decision as read: its fields, weapons with categories, status and positions."""

    id: Required[str]
    weapons: Required[list[WeaponRef]]
    status: Required[str]
    position: Required[int]
    """The log position of this version."""
    recordedAt: Required[str]
    firstPosition: Required[int]
    firstRecordedAt: Required[str]


# --- Timelines -------------------------------------------------------------------------


class TimelineBody(TypedDict):
    """What every timeline row of one decision version shares."""

    decisionId: str
    headline: str
    certainty: str
    action: str
    actor: str
    recipient: str | None
    treaty: str | None
    scope: str | None
    weapons: list[WeaponRef]
    date: DateDoc
    status: str
    position: int
    recordedAt: str


class TimelineEntry(TimelineBody):
    """One entry of a timeline (`pt_timeline.doc`): the body and the country's role."""

    role: str | None
    """ACTOR or RECIPIENT on a country's timeline; None on a weapon's."""


class TimelineChange(TypedDict):
    """A timeline row version written after a position: what subscribers are told."""

    kind: str
    key: str
    position: int
    entry: TimelineEntry


# --- History ---------------------------------------------------------------------------


class HistoryDetails(TypedDict, total=False):
    """A history step's stored details (`pt_history.doc`): a correction's changes and
    sources, or a translation's language and texts."""

    changes: dict[str, Any] | None
    sources: list[SourceDoc] | None
    translation: str
    lang: str
    texts: dict[str, str]


class HistoryStep(TypedDict):
    """One step of a decision's history, as read."""

    position: int
    eventType: str
    """Recorded, Corrected, Retracted or Translated."""
    recordedAt: str
    reason: str | None
    keyId: str | None
    sources: list[SourceDoc] | None
    fields: list[str] | None
    """The public names of the fields a correction changed."""
    translation: NotRequired[HistoryDetails]


# --- Translations ----------------------------------------------------------------------


class TranslationDoc(TypedDict):
    """A record's text in one language, merged from its translations (`pt_translations`)."""

    kind: str
    record: str
    lang: str
    fields: dict[str, str]
    translatedAt: dict[str, int]
    stale: list[str]
    sources: list[SourceDoc]
    ids: list[str]
    position: int
    recordedAt: str


# --- Other records (`pt_records.doc`, with the position read beside it) -----------------


class TreatyDoc(TypedDict, total=False):
    id: Required[str]
    name: Required[str]
    shortName: str
    adoptedOn: str
    openedForSignatureOn: str
    entryIntoForceOn: str
    prohibits: list[str]
    sources: list[SourceDoc]
    position: int


class WeaponDoc(TypedDict, total=False):
    id: Required[str]
    name: Required[str]
    category: Required[str]
    designation: str
    aliases: list[str]
    sources: list[SourceDoc]
    position: int


class SpeakerDoc(TypedDict, total=False):
    name: Required[str]
    kind: Required[str]
    country: str


class StatementDoc(TypedDict, total=False):
    id: Required[str]
    by: Required[SpeakerDoc]
    about: Required[str]
    stance: Required[str]
    quote: str
    madeOn: str
    sources: list[SourceDoc]
    position: int


class ObservationDoc(TypedDict, total=False):
    id: Required[str]
    indicator: Required[str]
    scope: Required[str]
    period: Required[str]
    value: Required[str | float]
    """Stored as an exact decimal string (older records: a JSON number)."""
    unit: str
    basis: str
    note: str
    label: str
    sources: list[SourceDoc]
    position: int
    conflict: bool
    """Read only: other sources give another value for the same scope and period."""


class CategoryDoc(TypedDict):
    """A weapon category, known from the weapon that introduced it."""

    id: str
    introducedBy: str


class IndicatorDoc(TypedDict):
    id: str
    label: str
    unit: str | None


RecordDoc = TreatyDoc | WeaponDoc | StatementDoc | ObservationDoc | CategoryDoc


# --- The log -------------------------------------------------------------------------


class LogEntryDoc(TypedDict):
    """One event of the log with its hashes (`policy_log`)."""

    position: int
    eventId: str
    eventType: str
    streamId: str
    version: int
    recordedAt: str
    leafHash: str
    chainHash: str


# --- Treaty membership and compliance (table rows, read as documents) ------------------


class StandingDoc(TypedDict):
    """One state's standing towards a treaty on a calendar day."""

    country: str
    status: str
    since: dt.date | None
    """The day it became bound (bound statuses only)."""
    signedOn: dt.date | None
    withdrawalOn: dt.date | None


class FlagDoc(TypedDict):
    """A transfer or use a treaty forbids to the state it binds, with that state's standing."""

    decisionId: str
    country: str
    treaty: str
    weaponCategory: str
    act: str
    decidedOn: dt.date
    status: str
    since: dt.date
    statusOn: dt.date
    withdrawalOn: dt.date | None
