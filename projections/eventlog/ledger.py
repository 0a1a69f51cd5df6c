"""The hash-chained log: one canonical envelope, leaf hash and chain hash per event."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any, Protocol
from uuid import UUID, uuid5

import rfc8785
from sqlalchemy import BigInteger, Column, Integer, MetaData, String, Table

SCHEMA_VERSION = 1
GENESIS = "0" * 64

metadata = MetaData()

log = Table(
    "policy_log",
    metadata,
    Column("position", BigInteger, primary_key=True, autoincrement=False),
    Column("notification_id", BigInteger, nullable=False, unique=True),
    Column("event_id", String(36), nullable=False, unique=True),
    Column("stream_id", String(36), nullable=False),
    Column("version", Integer, nullable=False),
    Column("event_type", String(200), nullable=False),
    Column("schema_version", Integer, nullable=False),
    Column("recorded_at", String(40), nullable=False),
    Column("leaf_hash", String(64), nullable=False),
    Column("chain_hash", String(64), nullable=False),
)


@dataclass(frozen=True)
class Envelope:
    """What is hashed for one event: where it sits in the log and what it says."""

    position: int
    stream_id: str
    version: int
    event_id: str
    event_type: str
    schema_version: int
    recorded_at: str
    payload: Any
    plain: bool = field(default=False, compare=False, repr=False)
    """True when the payload is known to be in the fast path's subset (see `envelope_of`)."""

    def canonical(self) -> bytes:
        """RFC 8785 canonical JSON of the envelope."""
        return (_canonical_plain if self.plain else canonical_json)(
            {
                "position": self.position,
                "streamId": self.stream_id,
                "version": self.version,
                "eventId": self.event_id,
                "eventType": self.event_type,
                "schemaVersion": self.schema_version,
                "recordedAt": self.recorded_at,
                "payload": self.payload,
            }
        )


def envelope_of(
    position: int,
    originator_id: UUID | str,
    version: int,
    topic: str,
    state: bytes,
    recorded_at: str,
    schema_version: int = SCHEMA_VERSION,
) -> Envelope:
    """The envelope of a stored event at a log position."""
    return Envelope(
        position=position,
        stream_id=str(originator_id),
        version=version,
        event_id=event_id(originator_id, version),
        event_type=event_type(topic),
        schema_version=schema_version,
        recorded_at=recorded_at,
        payload=payload_of(state),
        # `payload_of` leaves only strings, safe integers, booleans and null; without an
        # astral character or a surrogate escape no key can sort differently in UTF-16.
        plain=_NOT_PLAIN.search(state) is None,
    )


class StoredLike(Protocol):
    """A stored event or a database row with the stored event's columns."""

    @property
    def originator_id(self) -> UUID | str: ...

    @property
    def originator_version(self) -> int: ...

    @property
    def topic(self) -> str: ...

    @property
    def state(self) -> bytes | memoryview: ...


def envelope_for(
    position: int, stored: StoredLike, recorded_at: str, schema_version: int = SCHEMA_VERSION
) -> Envelope:
    """The envelope of a stored event (or an events-table row) at a log position."""
    return envelope_of(
        position,
        stored.originator_id,
        stored.originator_version,
        stored.topic,
        bytes(stored.state),
        recorded_at,
        schema_version,
    )


def log_row(notification_id: int, envelope: Envelope, previous: str) -> dict[str, Any]:
    """The `policy_log` row that chains `envelope` after the chain hash `previous`."""
    leaf = leaf_hash(envelope)
    return {
        "position": envelope.position,
        "notification_id": notification_id,
        "event_id": envelope.event_id,
        "stream_id": envelope.stream_id,
        "version": envelope.version,
        "event_type": envelope.event_type,
        "schema_version": envelope.schema_version,
        "recorded_at": envelope.recorded_at,
        "leaf_hash": leaf,
        "chain_hash": chain_hash(previous, leaf),
    }


def leaf_hash(envelope: Envelope) -> str:
    """SHA-256(0x00 || canonical envelope), hex."""
    return hashlib.sha256(b"\x00" + envelope.canonical()).hexdigest()


def chain_hash(previous: str, leaf: str) -> str:
    """SHA-256(previous chain hash || leaf hash) over the raw 32-byte digests, hex."""
    return hashlib.sha256(bytes.fromhex(previous) + bytes.fromhex(leaf)).hexdigest()


def event_id(stream_id: UUID | str, version: int) -> str:
    """A stable id for the event at `version` of a stream."""
    return str(uuid5(UUID(str(stream_id)), str(version)))


def event_type(topic: str) -> str:
    """The event's class name from its topic (`domain.decision:Decision.Recorded`)."""
    return topic.rsplit(":", 1)[-1]


def payload_of(state: bytes) -> Any:
    """The stored event state as JSON data; non-integer numbers become strings.

    A number with a fraction or exponent becomes the `repr` of its double, an integer
    beyond ±(2^53 - 1) its decimal digits: the parser's hooks do it as it reads."""
    return json.loads(
        state, parse_float=_float_text, parse_int=_exact_int, parse_constant=_float_text
    )


MAX_EXACT = 2**53 - 1  # RFC 8785 numbers are IEEE doubles: larger integers travel as strings
_NOT_PLAIN = re.compile(rb"[\xf0-\xff]|\\u[dD][89a-fA-F]")
"""A 4-byte UTF-8 sequence (an astral character) or an escaped surrogate."""


def _float_text(text: str) -> str:
    return repr(float(text))


def _exact_int(text: str) -> int | str:
    value = int(text)
    return value if -MAX_EXACT <= value <= MAX_EXACT else str(value)


class _Outside(Exception):
    """A value the fast path does not cover; `rfc8785` serialises (or refuses) it."""


# With these options the C encoder writes what RFC 8785 §3.2.2.2 asks of strings: `"` and
# `\\` escaped, \b \t \n \f \r, other controls as lowercase \u00xx, everything else as is.
_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode
_ENCODE_SORTED = json.JSONEncoder(
    ensure_ascii=False, separators=(",", ":"), allow_nan=False, sort_keys=True
).encode


def canonical_json(value: Any) -> bytes:
    """RFC 8785 canonical JSON; fast for strings, safe integers, booleans, null, lists, dicts."""
    try:
        if _plain(value):  # code point order of keys is UTF-16 order: the encoder sorts
            return _ENCODE_SORTED(value).encode("utf-8")
        return _ENCODE(_utf16_ordered(value)).encode("utf-8")
    except (_Outside, UnicodeEncodeError):  # floats, big integers, lone surrogates, ...
        return rfc8785.dumps(value)


def _canonical_plain(value: Any) -> bytes:
    """`canonical_json` of a value known to be in the fast path's subset."""
    try:
        return _ENCODE_SORTED(value).encode("utf-8")
    except UnicodeEncodeError:  # excluded by the caller's check; kept as a safety net
        return canonical_json(value)


def _plain(value: Any) -> bool:
    """Whether `value` is in the fast path's subset and no object key is astral."""
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return True
    if kind is int:
        number: int = value
        return -MAX_EXACT <= number <= MAX_EXACT
    if kind is list:
        return all(map(_plain, value))
    if kind is dict:
        # Code point and UTF-16 order differ only between an astral character and one in
        # U+E000..U+FFFF; keys without astral characters (nearly all of them) sort alike.
        try:
            keys = "".join(value)  # one C call checks every key at once
        except TypeError:  # a key that is not a string
            return False
        return (keys.isascii() or max(keys) < "\U00010000") and all(map(_plain, value.values()))
    return False


def _utf16_units(key: str) -> bytes:
    return key.encode("utf-16-be", "surrogatepass")


def _utf16_ordered(value: Any) -> Any:
    """`value` with every object's keys in RFC 8785 order (UTF-16 code units)."""
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return value
    if kind is int:
        if -MAX_EXACT <= value <= MAX_EXACT:
            return value
        raise _Outside
    if kind is list:
        return [_utf16_ordered(v) for v in value]
    if kind is dict:
        if not all(type(k) is str for k in value):
            raise _Outside
        keys = sorted(value, key=_utf16_units)
        return {k: _utf16_ordered(value[k]) for k in keys}
    raise _Outside


def rfc3339(moment: dt.datetime) -> str:
    """UTC time as RFC 3339 with microseconds and a Z."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
