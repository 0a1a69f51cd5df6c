"""Read-model tables. Versioned rows are bitemporal in record time: each row version was
current from log position `valid_from` (inclusive) until `valid_to` (exclusive, NULL = now)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    Index,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

tracking = Table(
    "pt_tracking",
    metadata,
    Column("projection", String(64), primary_key=True),
    Column("position", BigInteger, nullable=False),
)

decisions = Table(
    "pt_decisions",
    metadata,
    Column("decision_id", String(128), primary_key=True),
    Column("valid_from", BigInteger, primary_key=True, autoincrement=False),
    Column("valid_to", BigInteger),
    Column("stream_id", String(36), nullable=False),
    Column("first_position", BigInteger, nullable=False),
    Column("recorded_at", String(40), nullable=False),
    Column("status", String(16), nullable=False),
    Column("doc", Text, nullable=False),
    Index("pt_decisions_current", "decision_id", "valid_to"),
    Index("pt_decisions_stream", "stream_id", "valid_to"),
)

timeline = Table(
    "pt_timeline",
    metadata,
    Column("kind", String(8), nullable=False),  # country | system | category
    Column("key", String(128), nullable=False),
    Column("decision_id", String(128), nullable=False),
    Column("valid_from", BigInteger, nullable=False),
    Column("valid_to", BigInteger),
    Column("earliest", Date, nullable=False),
    Column("first_position", BigInteger, nullable=False),
    Column("role", String(16)),
    Column("action", String(32), nullable=False),
    Column("status", String(16), nullable=False),
    Column("doc", Text, nullable=False),
    Index("pt_timeline_order", "kind", "key", "earliest", "first_position"),
    Index("pt_timeline_version", "decision_id", "valid_to"),
    Index("pt_timeline_unique", "kind", "key", "decision_id", "valid_from", unique=True),
)

relations = Table(
    "pt_relations",
    metadata,
    Column("relation", String(16), nullable=False),  # reverses | supersedes | implements
    Column("source_id", String(128), nullable=False),
    Column("target_id", String(128), nullable=False),
    Column("valid_from", BigInteger, nullable=False),
    Column("valid_to", BigInteger),
    Index("pt_relations_source", "source_id", "relation"),
    Index("pt_relations_target", "target_id", "relation"),
)

history = Table(
    "pt_history",
    metadata,
    Column("decision_id", String(128), nullable=False),
    Column("position", BigInteger, primary_key=True, autoincrement=False),
    Column("event_type", String(64), nullable=False),
    Column("recorded_at", String(40), nullable=False),
    Column("reason", Text),
    Column("key_id", String(64)),
    Column("doc", Text),
    Index("pt_history_decision", "decision_id", "position"),
)

records = Table(
    "pt_records",
    metadata,
    # treaty | weapon | statement | observation | category
    Column("kind", String(16), primary_key=True),
    Column("record_id", String(128), primary_key=True),
    Column("position", BigInteger, nullable=False),
    Column("recorded_at", String(40), nullable=False),
    Column("ref", String(128)),  # statement: decision id; observation: indicator
    Column("doc", Text, nullable=False),
    Index("pt_records_ref", "kind", "ref", "position"),
)

# Named pt_standing and pt_flags since standing became open-world (signatories, withdrawn
# states, the act a flag names): stores built before keep their old tables unused, and the
# projection's new version rebuilds these from the log.
translations = Table(
    "pt_translations",
    metadata,
    # One row version per record and language: the latest text of each field, merged from
    # every translation recorded for it, and which fields the original corrected since.
    Column("kind", String(16), nullable=False),  # decision | treaty | weapon | ...
    Column("record_id", String(128), nullable=False),
    Column("lang", String(8), nullable=False),
    Column("stream_id", String(36), nullable=False),  # the translated record's aggregate id
    Column("valid_from", BigInteger, nullable=False),
    Column("valid_to", BigInteger),
    Column("doc", Text, nullable=False),
    Index("pt_translations_record", "kind", "record_id", "valid_to"),
    Index("pt_translations_stream", "stream_id", "valid_to"),
    Index("pt_translations_unique", "kind", "record_id", "lang", "valid_from", unique=True),
)

membership = Table(
    "pt_standing",
    metadata,
    Column("treaty_id", String(128), nullable=False),
    Column("country", String(8), nullable=False),
    Column("status", String(24), nullable=False),  # SIGNATORY | PARTY | ... | WITHDRAWN
    Column("since", Date),  # the day the state became bound; NULL when it is not bound
    Column("starts_on", Date, nullable=False),  # valid time of this status, inclusive
    Column("ends_on", Date),  # exclusive; NULL = still so
    Column("signed_on", Date),
    Column("withdrawal_on", Date),  # a notified withdrawal's effect, or when it took effect
    Column("valid_from", BigInteger, nullable=False),
    Column("valid_to", BigInteger),
    Index("pt_standing_treaty", "treaty_id", "valid_to", "starts_on"),
    Index("pt_standing_state", "treaty_id", "country", "valid_to"),
)

compliance_flags = Table(
    "pt_flags",
    metadata,
    Column("decision_id", String(128), nullable=False),
    Column("country", String(8), nullable=False),  # the state bound by the treaty
    Column("treaty_id", String(128), nullable=False),
    Column("weapon_category", String(64), nullable=False),
    Column("act", String(16), nullable=False),  # USE | ACQUIRE | TRANSFER
    Column("decided_on", Date, nullable=False),
    Column("status", String(24), nullable=False),  # the bound state's standing that day
    Column("since", Date, nullable=False),
    Column("status_on", Date, nullable=False),
    Column("withdrawal_on", Date),
    Column("valid_from", BigInteger, nullable=False),
    Column("valid_to", BigInteger),
    Index("pt_flags_decision", "decision_id", "valid_to"),
    Index("pt_flags_country", "country", "valid_to", "decided_on"),
)

flaggable = Table(
    "pt_flaggable",
    metadata,
    # One row per weapon category of each live transfer or use, under each country whose
    # treaty standing could flag it (who acquires, who supplies, who uses):
    # when that membership changes, only these decisions need their flags looked at again.
    Column("decision_id", String(128), nullable=False),
    Column("country", String(8), nullable=False),
    Column("weapon_category", String(64), nullable=False),
    Column("valid_from", BigInteger, nullable=False),
    Column("valid_to", BigInteger),
    Index("pt_flaggable_country", "country", "weapon_category", "valid_to"),
    Index("pt_flaggable_decision", "decision_id", "valid_to"),
)

READ_MODELS = [t for t in metadata.sorted_tables if t is not tracking]
"""The tables a rebuild fills and digests cover (tracking is where they stand, not a model)."""

# Not a read model: kept apart so that rebuilds and digests leave it alone.
versions_metadata = MetaData()

projection_versions = Table(
    "pt_projection_versions",
    versions_metadata,
    Column("projection", String(64), primary_key=True),
    Column("version", BigInteger, nullable=False),
)
