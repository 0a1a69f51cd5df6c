"""How dates and enums travel inside stored events."""

from __future__ import annotations

from enum import Enum
from typing import Any

from eventsourcing.persistence import JSONTranscoder, Transcoding

from domain.dates import FuzzyDate
from domain.values import Action, ActorKind, DecisionStatus, Stance


class FuzzyDateAsEDTF(Transcoding):
    """A fuzzy date is stored as its EDTF string."""

    type = FuzzyDate
    name = "edtf"

    def encode(self, obj: FuzzyDate) -> str:
        return obj.edtf

    def decode(self, data: str) -> FuzzyDate:
        return FuzzyDate(data)


def _enum_transcoding(enum: type[Enum]) -> Transcoding:
    """A transcoding that stores members of `enum` by their value."""

    class EnumAsValue(Transcoding):
        type = enum
        name = enum.__name__

        def encode(self, obj: Any) -> str:
            return str(obj.value)

        def decode(self, data: str) -> Any:
            return enum(data)

    EnumAsValue.__qualname__ = f"{enum.__name__}AsValue"
    return EnumAsValue()


def register_transcodings(transcoder: JSONTranscoder) -> None:
    """Register every transcoding the domain's events need."""
    transcoder.register(FuzzyDateAsEDTF())
    for enum in (Action, Stance, ActorKind, DecisionStatus):
        transcoder.register(_enum_transcoding(enum))
