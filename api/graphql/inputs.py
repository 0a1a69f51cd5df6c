"""GraphQL input types, derived from the domain's commands: one declaration per field.

Each input object mirrors its pydantic command (`domain.commands`): the same fields, camelCase
in the schema, required ones first (the id leading), then the optional ones, each group in the
command's order. An input's value is turned back into the plain data an import line carries and
validated by the domain, so GraphQL and `import` share every rule and message.
"""

from __future__ import annotations

import dataclasses
import types
from enum import Enum
from typing import Annotated, Any, Union, get_args, get_origin

import strawberry
from pydantic import BaseModel
from pydantic.alias_generators import to_camel
from pydantic.fields import FieldInfo

from domain import commands

ID_FIELDS = frozenset({"id", "treaty", "about", "record", *commands.RELATION_FIELDS})
"""Fields naming a record by its id: GraphQL's ID type (other strings are String)."""
NAMES: dict[type[BaseModel], str] = {commands.DecisionFields: "DecisionChangesInput"}
"""Input objects not named after their command."""
_MADE: dict[type[BaseModel], type] = {}


def to_data(value: Any) -> Any:
    """An input object as the JSON data an import line would carry."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list):
        return [to_data(v) for v in value]
    if dataclasses.is_dataclass(value):
        return {
            to_camel(f.name): to_data(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if getattr(value, f.name) is not None and getattr(value, f.name) is not strawberry.UNSET
        }
    return value


def input_type(model: type[BaseModel]) -> type:
    """The GraphQL input object of a command (made once, nested commands too)."""
    if model not in _MADE:
        fields = model.model_fields
        order = sorted(fields, key=lambda n: (not fields[n].is_required(), n != "id"))
        annotations = {n: _annotation(n, fields[n]) for n in order}
        defaults = {n: _default(fields[n]) for n in order if not _plain(fields[n])}
        name = NAMES.get(model, model.__name__)
        namespace = {"__annotations__": annotations, "__module__": __name__, **defaults}
        _MADE[model] = strawberry.input(type(name, (), namespace), name=name)
    return _MADE[model]


def _plain(info: FieldInfo) -> bool:
    """A required field without a description needs no strawberry.field()."""
    return info.is_required() and info.description is None


def _default(info: FieldInfo) -> Any:
    if info.is_required():
        return strawberry.field(description=info.description)
    return strawberry.field(default=info.default, description=info.description)


def _annotation(name: str, info: FieldInfo) -> Any:
    graphql = _type(name, info.annotation)
    return graphql if info.is_required() else graphql | None


def _type(name: str, annotation: Any) -> Any:
    """The GraphQL type of a command's field type (Optional and validators stripped)."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _type(name, get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        [present] = [a for a in get_args(annotation) if a is not type(None)]
        return _type(name, present)
    if origin is list:
        return types.GenericAlias(list, (_type(name, get_args(annotation)[0]),))
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return input_type(annotation)
    if annotation is str and name in ID_FIELDS:
        return strawberry.ID
    return annotation  # str, float, bool, or one of the domain's enums
