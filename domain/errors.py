"""Errors a user can cause, one hierarchy for every entry point."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class FieldError:
    """One problem with one field of an input."""

    path: tuple[str, ...]
    message: str

    def __str__(self) -> str:
        where = ".".join(self.path)
        return f"{where}: {self.message}" if where else self.message


class PolicyRecordError(Exception):
    """Base of every error a user can cause."""

    code = "BAD_USER_INPUT"


@dataclass
class InvalidInput(PolicyRecordError):
    """An input broke one or more rules; each rule names its field."""

    errors: list[FieldError] = field(default_factory=list)

    def __str__(self) -> str:
        return "; ".join(str(e) for e in self.errors)


@dataclass
class NotFound(PolicyRecordError):
    """An id refers to nothing recorded."""

    kind: str
    id: str
    path: tuple[str, ...] = ()
    code = "NOT_FOUND"

    def __str__(self) -> str:
        where = ".".join(self.path)
        text = f"unknown {self.kind} {self.id!r}"
        return f"{where}: {text}" if where else text


@dataclass
class Conflict(PolicyRecordError):
    """An id is already recorded with different content."""

    kind: str
    id: str
    hint: str = ""
    code = "CONFLICT"

    def __str__(self) -> str:
        text = f"{self.kind} {self.id!r} is already recorded with different content"
        return f"{text}; {self.hint}" if self.hint else text


class ConcurrentWrite(Conflict):
    """Other writers kept changing the same record at the same time; nothing was saved."""

    def __str__(self) -> str:
        return (
            f"{self.kind} {self.id!r} was changed by another writer at the same time and "
            "nothing was saved; retry the operation"
        )
