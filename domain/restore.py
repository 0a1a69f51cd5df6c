"""The operation that records a stored event: how a restored event is validated like a live one."""

from __future__ import annotations

import re
from typing import Any

from domain.decision import Decision, recorded_fields
from domain.errors import FieldError, InvalidInput
from domain.records import Observation, Statement, Treaty, Weapon
from domain.translation import Translation
from domain.vocabulary import Category

KEY_ID = re.compile(r"^[0-9a-f]{12}\Z")
"""The shape of an API key id (`keys create` makes 12 hex digits)."""
_RECORDED_BY_CONTENT = {
    Treaty.Recorded: "recordTreaty",
    Weapon.Recorded: "recordWeapon",
    Statement.Recorded: "recordStatement",
    Observation.Recorded: "recordObservation",
    Translation.Recorded: "translateRecord",
}
FOLLOWERS = (Category.Added,)
"""Events an operation adds after its main one (a new category after its weapon)."""


def operation_of(event: Any, decision_slug: str | None) -> tuple[str, dict[str, Any], str | None]:
    """(operation, input, key id) that records `event` live; InvalidInput when none does.

    `decision_slug` is the id of the decision whose stream the event extends, if any."""
    key_id = getattr(event, "key_id", None)
    if key_id is not None and not (isinstance(key_id, str) and KEY_ID.match(key_id)):
        raise InvalidInput([FieldError(("keyId",), f"{str(key_id)[:40]!r} is not an API key id")])
    kind = type(event)
    if kind in _RECORDED_BY_CONTENT:
        return _RECORDED_BY_CONTENT[kind], _as_dict(event.content), key_id
    if kind is Decision.Recorded:
        fields = recorded_fields(
            event.action, event.decided_on, event.announced_on, event.effective_on, event.details
        )
        return "recordDecision", {"id": event.slug, **fields}, key_id
    if kind in (Decision.Corrected, Decision.Retracted) and decision_slug is None:
        raise InvalidInput([FieldError(("id",), "it changes a decision that is not recorded")])
    if kind is Decision.Corrected:
        data = {"changes": event.changes, "reason": event.reason, "sources": event.sources}
        return "correctDecision", {"id": decision_slug, **data}, key_id
    if kind is Decision.Retracted:
        data = {"reason": event.reason, "sources": event.sources}
        return "retractDecision", {"id": decision_slug, **data}, key_id
    name = kind.__qualname__
    raise InvalidInput([FieldError((), f"no operation records a {name} event on its own")])


def _as_dict(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidInput([FieldError(("content",), "must be an object")])
    return value
