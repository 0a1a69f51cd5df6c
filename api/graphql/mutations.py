"""The write operations: one path from a GraphQL input to the application and back.

Every operation takes one `input` (its command's input object) and returns a union of its
success type (`position` and the record written) and the typed errors. Authorization, the
write rate, saving off the event loop and reading the answer back are the same for all.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

import strawberry
from strawberry.types import Info
from strawberry.types.field import StrawberryField

from api.graphql.context import Context
from api.graphql.decision import Decision
from api.graphql.errors import Conflict, NotFound, ValidationError, typed_error
from api.graphql.inputs import input_type, to_data
from api.graphql.translation import Translation
from api.graphql.treaty import Treaty
from api.graphql.types import Observation, Statement, Weapon
from domain.commands import INPUTS
from domain.errors import PolicyRecordError
from projections.readmodels.queries import ReadModel


@dataclass(frozen=True)
class Operation:
    """One write operation as GraphQL offers it."""

    name: str
    """The operation's name (`recordTreaty`), as import lines name it too."""
    field: str
    """The field of its success type holding the record written (`treaty`)."""
    type: type
    """That record's GraphQL type."""
    answer: Callable[[ReadModel, str, Any], object]
    """The record as the answer shows it, read back by the id written (and the input)."""
    description: str | None = None


def _treaty(read: ReadModel, slug: str, _: Any) -> Treaty:
    return Treaty.of(read.records("treaty", ids=[slug])[0])


def _weapon(read: ReadModel, slug: str, _: Any) -> Weapon:
    return Weapon.of(read.records("weapon", ids=[slug])[0])


def _decision(read: ReadModel, slug: str, _: Any) -> Decision:
    doc = read.decision(slug)
    assert doc is not None  # the store waited for the projections before answering
    return Decision.of(doc, None)


def _statement(read: ReadModel, slug: str, _: Any) -> Statement:
    return Statement.of(read.records("statement", ids=[slug])[0])


def _observation(read: ReadModel, slug: str, _: Any) -> Observation:
    return Observation.of(read.observations_by_id([slug])[0])


def _translation(read: ReadModel, _: str, given: Any) -> Translation:
    record = str(given.record)
    docs = read.translations(given.kind.kind, [record])[record]
    return Translation.of(next(d for d in docs if d["lang"] == given.lang))


OPERATIONS = (
    Operation("recordTreaty", "treaty", Treaty, _treaty),
    Operation("recordWeapon", "weapon", Weapon, _weapon),
    Operation("recordDecision", "decision", Decision, _decision),
    Operation("correctDecision", "decision", Decision, _decision),
    Operation("retractDecision", "decision", Decision, _decision),
    Operation("recordStatement", "statement", Statement, _statement),
    Operation("recordObservation", "observation", Observation, _observation),
    Operation(
        "translateRecord",
        "translation",
        Translation,
        _translation,
        "Record a translation of a record's text; readers see it with `(lang:)`.",
    ),
)


def _title(op: Operation) -> str:
    return op.name[0].upper() + op.name[1:]


def _success(op: Operation) -> type:
    """`<Operation>Success { position: Int!, <field>: <Type>! }`."""
    name = f"{_title(op)}Success"
    annotations = {"position": int, op.field: op.type}
    made = type(name, (), {"__annotations__": annotations, "__module__": __name__})
    return strawberry.type(made, name=name)


def mutation(op: Operation) -> StrawberryField:
    """The mutation field of one operation: authorize, write, read the record back."""
    success = _success(op)

    async def resolve(info: Info[Context, None], input: Any) -> Any:
        ctx = info.context
        key = ctx.editor("this API key may read but not write")
        ctx.check_write_rate(key)  # over the key's rate: RATE_LIMITED, HTTP 429
        try:
            # In a thread: saving and waiting for the projections must not block the loop.
            applied, position = await asyncio.to_thread(
                ctx.store.execute, op.name, to_data(input), key_id=key.key_id
            )
        except PolicyRecordError as exc:
            return typed_error(exc)

        def answer() -> tuple[int, object]:
            # Unchanged (already recorded): answered with the log's current head.
            at = ctx.store.head() if position is None else position
            return at, op.answer(ctx.store.primary, applied.record.slug, input)

        at, record = await asyncio.to_thread(answer)
        return success(position=at, **{op.field: record})

    result: Any = success | ValidationError | NotFound | Conflict
    resolve.__annotations__ = {
        "info": Info[Context, None],
        "input": input_type(INPUTS[op.name]),
        "return": Annotated[result, strawberry.union(f"{_title(op)}Result")],
    }
    field: StrawberryField = strawberry.mutation(resolver=resolve, description=op.description)
    return field


def mutations() -> dict[str, StrawberryField]:
    """Every write operation's mutation field, by its Python name (recordTreaty: record_treaty)."""
    return {_snake(op.name): mutation(op) for op in OPERATIONS}


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)
