"""Typed mutation errors and user-facing query errors."""

from __future__ import annotations

import strawberry
from graphql import GraphQLError

from domain.errors import Conflict as ConflictError
from domain.errors import InvalidInput, PolicyRecordError
from domain.errors import NotFound as NotFoundError


@strawberry.type
class FieldError:
    path: list[str]
    message: str


@strawberry.type
class ValidationError:
    message: str
    errors: list[FieldError]


@strawberry.type
class NotFound:
    message: str
    id: strawberry.ID


@strawberry.type
class Conflict:
    message: str
    id: strawberry.ID


def typed_error(exc: PolicyRecordError) -> ValidationError | NotFound | Conflict:
    """A domain error as the union member a mutation returns."""
    if isinstance(exc, NotFoundError):
        return NotFound(message=str(exc), id=strawberry.ID(exc.id))
    if isinstance(exc, ConflictError):
        return Conflict(message=str(exc), id=strawberry.ID(exc.id))
    assert isinstance(exc, InvalidInput)
    return ValidationError(
        message=str(exc),
        errors=[FieldError(path=["input", *e.path], message=e.message) for e in exc.errors],
    )


def user_error(exc: PolicyRecordError) -> GraphQLError:
    """A domain error raised by a query, with its code in extensions."""
    return GraphQLError(str(exc), extensions={"code": exc.code})


def coded(message: str, code: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": code})
