"""Commands: the inputs of every operation, validated with messages that name the field."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from domain.dates import FuzzyDate, InvalidDate
from domain.errors import FieldError, InvalidInput
from domain.values import (
    LANGS,
    ORIGINAL_LANG,
    TRANSLATABLE,
    TRANSLATION_LANGS,
    WORLD,
    Action,
    ActorKind,
    Certainty,
    ObservationBasis,
    RecordKind,
    Stance,
    country_name,
)

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,127}$")


def _slug(value: str) -> str:
    if not _SLUG.match(value):
        raise ValueError(
            f"{value!r} is not a valid id (lowercase letters, digits and hyphens, at most 128)"
        )
    return value


def _country(value: str) -> str:
    if country_name(value) is None:
        raise ValueError(f"{value!r} is not an ISO 3166-1 alpha-3 country code")
    return value


def _edtf(value: str) -> str:
    try:
        FuzzyDate(value)
    except InvalidDate as exc:
        raise ValueError(str(exc)) from None
    return value


def _text(value: str) -> str:
    value = value.strip()
    if not value:
        raise ValueError("must not be empty")
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _url(value: str) -> str:
    # Control characters (C0, DEL, C1) are invisible in a link and split headers and logs.
    found = _CONTROL.search(value)
    if found is not None:
        raise ValueError(f"must not contain control characters (found U+{ord(found.group()):04X})")
    return value


Slug = Annotated[str, AfterValidator(_slug)]
Country = Annotated[str, AfterValidator(_country)]
Edtf = Annotated[str, AfterValidator(_edtf)]
Text = Annotated[str, Field(max_length=20_000), AfterValidator(_text)]
ShortText = Annotated[str, Field(max_length=500), AfterValidator(_text)]
Url = Annotated[str, Field(max_length=2000, pattern=r"^https?://\S+$"), AfterValidator(_url)]
"""An http(s) link: the same rule for GraphQL input and import lines."""


class Input(BaseModel):
    """Base of every input: camelCase names, unknown fields refused, frozen."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        frozen=True,
        str_strip_whitespace=True,
    )

    def content(self) -> dict[str, Any]:
        """The input as plain JSON data, without unset optional fields."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


class SourceInput(Input):
    publisher: ShortText
    title: Text | None = None
    url: Url | None = None
    published_on: Edtf | None = None
    quote: Text | None = None
    retrieved_on: Edtf | None = None
    archive_url: Url | None = None


Sources = Annotated[list[SourceInput], Field(min_length=1, max_length=50)]


class OfficialInput(Input):
    name: ShortText
    office: ShortText | None = None
    announced: bool = False


class WeaponRefInput(Input):
    system: Slug | None = None
    category: Slug | None = None

    @model_validator(mode="after")
    def _one_of(self) -> WeaponRefInput:
        if (self.system is None) == (self.category is None):
            raise ValueError("give either system or category")
        return self


class DecisionFields(Input):
    """Fields a decision has, all optional: the shape of a correction's changes."""

    actor: Country | None = None
    officials: list[OfficialInput] | None = None
    action: Action | None = None
    recipient: Country | None = None
    treaty: Slug | None = None
    weapons: list[WeaponRefInput] | None = None
    scope: Text | None = None
    decided_on: Edtf | None = None
    announced_on: Edtf | None = None
    effective_on: Edtf | None = None
    reported_on: Edtf | None = None
    certainty: Certainty | None = None
    headline: ShortText | None = None
    summary: Text | None = None
    reverses: Slug | None = None
    departs_from: Slug | None = None
    supersedes: Slug | None = None
    implements: Slug | None = None


class RecordDecisionInput(DecisionFields):
    id: Slug
    actor: Country
    action: Action
    headline: ShortText
    sources: Sources

    @model_validator(mode="after")
    def _rules(self) -> RecordDecisionInput:
        check_decision_shape(self.model_dump(by_alias=False))
        return self


def check_decision_shape(fields: dict[str, Any]) -> None:
    """Rules across fields of a decision; raises ValueError naming the field."""
    roles = ("decided_on", "announced_on", "effective_on", "reported_on")
    if not any(fields.get(k) for k in roles):
        raise ValueError("give at least one of decidedOn, announcedOn, effectiveOn, reportedOn")
    action = fields.get("action")
    if action is not None and Action(action).is_treaty_action and not fields.get("treaty"):
        raise ValueError(f"treaty: required for the treaty action {Action(action).value}")
    for relation, name in RELATION_FIELDS.items():
        if fields.get(relation) is not None and fields.get(relation) == fields.get("id"):
            raise ValueError(f"{name}: a decision cannot refer to itself")


RELATION_FIELDS = {
    "reverses": "reverses",
    "departs_from": "departsFrom",
    "supersedes": "supersedes",
    "implements": "implements",
}
"""Relations between decisions: field name -> public name."""


class CorrectDecisionInput(Input):
    id: Slug
    changes: DecisionFields
    reason: Text
    sources: Sources

    @field_validator("changes")
    @classmethod
    def _not_empty(cls, value: DecisionFields) -> DecisionFields:
        if not value.model_fields_set:
            raise ValueError("name at least one field to change")
        return value


class RetractDecisionInput(Input):
    id: Slug
    reason: Text
    sources: Sources


class RecordTreatyInput(Input):
    id: Slug
    name: Text
    short_name: ShortText | None = None
    adopted_on: Edtf | None = None
    opened_for_signature_on: Edtf | None = None
    entry_into_force_on: Edtf | None = None
    prohibits: list[Slug] | None = None
    sources: Sources


class RecordWeaponInput(Input):
    id: Slug
    name: ShortText
    designation: ShortText | None = None
    category: Slug
    aliases: list[ShortText] | None = None
    sources: list[SourceInput] | None = None


class SpeakerInput(Input):
    name: ShortText
    kind: ActorKind
    country: Country | None = None


class RecordStatementInput(Input):
    id: Slug
    by: SpeakerInput
    about: Slug
    stance: Stance
    quote: Text | None = None
    made_on: Edtf | None = None
    sources: Sources


def _scope(value: str) -> str:
    return value if value == WORLD else _country(value)


class RecordObservationInput(Input):
    id: Slug
    indicator: Slug
    scope: Annotated[str, AfterValidator(_scope)]
    period: Edtf
    value: float = Field(allow_inf_nan=False)
    unit: ShortText | None = None
    basis: ObservationBasis | None = None
    note: Text | None = None
    label: ShortText | None = None
    sources: Sources

    @field_validator("value", mode="before")
    @classmethod
    def _exact_number(cls, value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError("must be a number")
        if isinstance(value, int) and abs(value) > 2**53:
            raise ValueError("must be at most 2^53 in magnitude to stay exact")
        return value


_LANG = re.compile(r"^[a-z]{2,3}\Z")


def check_lang(value: str) -> str:
    """A language the record serves (BCP 47 primary tag); ValueError naming the choices."""
    if value not in LANGS:
        shown = value if len(value) <= 20 else value[:20] + "…"
        shape = "" if _LANG.match(value) else " (a BCP 47 primary language tag such as fr)"
        raise ValueError(f"{shown!r} is not one of {', '.join(LANGS)}{shape}")
    return value


def _translation_lang(value: str) -> str:
    check_lang(value)
    if value == ORIGINAL_LANG:
        raise ValueError(
            f"{value!r} is the language of the original text; "
            f"translate into {', '.join(TRANSLATION_LANGS)}"
        )
    return value


TRANSLATED_FIELDS = (
    *("headline", "summary", "scope", "name", "shortName", "label", "quote", "note", "unit"),
)


class TranslateRecordInput(Input):
    id: Slug
    kind: RecordKind
    record: Slug
    lang: Annotated[str, AfterValidator(_translation_lang)]
    headline: ShortText | None = None
    summary: Text | None = None
    scope: Text | None = None
    name: Text | None = None
    short_name: ShortText | None = None
    label: ShortText | None = Field(default=None, description="An observation's label.")
    quote: Text | None = Field(default=None, description="A statement's quote.")
    note: Text | None = Field(default=None, description="An observation's note.")
    unit: ShortText | None = Field(default=None, description="An observation's unit.")
    sources: Sources | None = None

    @model_validator(mode="after")
    def _fields_of_kind(self) -> TranslateRecordInput:
        allowed = TRANSLATABLE[self.kind]
        given = self.texts()
        wrong = sorted(set(given) - set(allowed))
        if wrong:
            raise ValueError(
                f"{wrong[0]}: a {self.kind.value} has no {wrong[0]} to translate "
                f"(it has {', '.join(allowed)})"
            )
        if not given:
            raise ValueError(f"give at least one of {', '.join(allowed)}")
        if not self.sources:
            raise ValueError("sources: at least one source is required (who translated it)")
        return self

    def texts(self) -> dict[str, str]:
        """The translated fields given, by their public names."""
        content = self.content()
        return {name: content[name] for name in TRANSLATED_FIELDS if name in content}


INPUTS: dict[str, type[Input]] = {
    "recordTreaty": RecordTreatyInput,
    "recordWeapon": RecordWeaponInput,
    "recordDecision": RecordDecisionInput,
    "correctDecision": CorrectDecisionInput,
    "retractDecision": RetractDecisionInput,
    "recordStatement": RecordStatementInput,
    "recordObservation": RecordObservationInput,
    "translateRecord": TranslateRecordInput,
}


def field_errors(exc: ValidationError) -> list[FieldError]:
    """Translate pydantic's errors into messages that name the field by its public name."""
    errors = []
    for err in exc.errors(include_url=False):
        path = tuple(str(p) for p in err["loc"])
        message = err["msg"]
        for prefix in ("Value error, ", "Assertion failed, "):
            message = message.removeprefix(prefix)
        if err["type"] == "extra_forbidden":
            message = "unknown field"
        elif err["type"] == "missing":
            message = "required"
        elif err["type"] == "too_short" and path and path[-1] == "sources":
            message = "at least one source is required"
        if ": " in message and message.split(": ", 1)[0].isidentifier() and not path:
            field, message = message.split(": ", 1)
            path = (field,)
        elif ": " in message and message.split(": ", 1)[0].isidentifier():
            field, rest = message.split(": ", 1)
            if field in ("treaty", *RELATION_FIELDS.values()):
                path, message = (*path, field), rest
        errors.append(FieldError(path, message))
    return errors


def parse_input(op: str, data: Any) -> Input:
    """Validate raw data as the input of operation `op`; raises InvalidInput."""
    model = INPUTS.get(op)
    if model is None:
        raise InvalidInput(
            [FieldError(("op",), f"unknown operation {op!r}; one of {', '.join(INPUTS)}")]
        )
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput(field_errors(exc)) from None
