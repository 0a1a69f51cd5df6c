"""Every environment variable the product reads, with its default and its parser, in one place.

`current()` reads them as they are now (a test or `serve --workers` may change them); an
invalid value is refused naming its variable. docs/deployment.md lists the same variables
(a test compares the two)."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BeforeValidator,
    Field,
    NonNegativeInt,
    PositiveInt,
    ValidationError,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PREFIX = "POLICY_TIMELINE_"
DEFAULT_DB = "sqlite:///var/policy-timeline.sqlite3"
_UNITS = (("K", 1024), ("M", 1024**2), ("G", 1024**3))


def parse_size(text: object) -> object:
    """Bytes: a plain integer, or with a K, M or G suffix (binary; a trailing B is allowed)."""
    if not isinstance(text, str):
        return text
    value, factor = text.strip().upper().removesuffix("B"), 1
    for suffix, multiple in _UNITS:
        if value.endswith(suffix):
            value, factor = value.removesuffix(suffix).strip(), multiple
    if not (value.isascii() and value.isdigit()):
        raise ValueError("expected a size such as 67108864 or 64M")
    return int(value) * factor


def _comma_list(text: object) -> object:
    if isinstance(text, str):
        return tuple(part.strip() for part in text.split(",") if part.strip())
    return text


def _upper(text: object) -> object:
    return text.strip().upper() if isinstance(text, str) else text


Size = Annotated[NonNegativeInt, BeforeValidator(parse_size)]


class Settings(BaseSettings):
    """The deployment's settings: POLICY_TIMELINE_ + the field's name in capitals."""

    model_config = SettingsConfigDict(
        env_prefix=PREFIX,
        env_ignore_empty=True,
        str_strip_whitespace=True,
        frozen=True,
    )

    db: str = Field(default=DEFAULT_DB, description="the store's SQLAlchemy URL")
    read_db: str | None = Field(default=None, description="a read replica's URL (serve --read-db)")
    pool_size: int = Field(
        default=10, description="connections kept per process (server databases)"
    )
    max_overflow: int = Field(
        default=10, description="connections opened beyond the pool when busy"
    )
    sqlite_synchronous: Annotated[Literal["FULL", "NORMAL"], BeforeValidator(_upper)] = Field(
        default="FULL", description="SQLite's synchronous pragma: NORMAL may lose the last commits"
    )
    signing_key: Path = Field(
        default=Path("var/checkpoint-signing.key"), description="the checkpoint signing key's file"
    )
    origin: str = Field(
        default="policy-timeline", description="the log's name in signed checkpoints"
    )
    verify_interval: float = Field(
        default=300.0, description="seconds between two full verifications asked over GraphQL"
    )
    public_url: str | None = Field(default=None, description="the base of every absolute URL")
    metrics_addr: str | None = Field(default=None, description="HOST:PORT of a separate /metrics")
    allowed_origins: Annotated[tuple[str, ...], NoDecode, BeforeValidator(_comma_list)] = Field(
        default=(), description="WebSocket origins allowed, comma-separated (none: any)"
    )
    frame_ancestors: str = Field(default="*", description="the embed's CSP frame-ancestors")
    write_rate: str = Field(
        default="60/minute", description="mutations per API key: COUNT/unit or off"
    )
    max_subscriptions: PositiveInt = Field(
        default=2000, description="live subscriptions per process"
    )
    max_subscriptions_per_connection: PositiveInt = Field(
        default=20, description="live subscriptions per WebSocket"
    )
    max_subscriptions_per_address: PositiveInt = Field(
        default=100, description="live subscriptions per remote address"
    )
    response_cache_entries: NonNegativeInt = Field(
        default=2048, description="GraphQL responses kept per process (0: off)"
    )
    response_cache_bytes: Size = Field(
        default=64 * 1024**2, description="bytes of GraphQL responses kept per process (0: off)"
    )
    apq_entries: NonNegativeInt = Field(
        default=1000, description="automatic persisted queries kept"
    )
    apq_bytes: NonNegativeInt = Field(default=4 * 1024**2, description="bytes of their text kept")
    persisted_queries: Path | None = Field(
        default=None, description="the persisted-only query file"
    )
    import_project_apart: NonNegativeInt = Field(
        default=0,
        description="new lines from which an import projects apart (PostgreSQL; 0: never)",
    )
    production: bool = Field(default=False, description="serve --production (1)")
    embedded_worker: bool = Field(
        default=True, description="project in the API process (0: a worker)"
    )

    @model_validator(mode="before")
    @classmethod
    def _blank_is_unset(cls, data: Any) -> Any:
        """A variable set to spaces only counts as unset, as an empty one does."""
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if not (isinstance(v, str) and not v.strip())}
        return data


class SettingsError(ValueError):
    """An environment variable with a value its setting refuses; the message names it."""


VARIABLES = tuple(PREFIX + name.upper() for name in Settings.model_fields)
"""Every variable, in the order of the fields."""


def env_name(field: str) -> str:
    """The environment variable of a setting."""
    return PREFIX + field.upper()


def current() -> Settings:
    """The settings as the environment says now (some are read on every request: the values
    of the variables pick one of the few Settings already parsed)."""
    try:
        return _parsed(tuple(os.environ.get(name) for name in VARIABLES))
    except ValidationError as exc:
        raise SettingsError("; ".join(_problem(e) for e in exc.errors())) from None


@lru_cache(maxsize=8)
def _parsed(values: tuple[str | None, ...]) -> Settings:
    """Settings for these values of VARIABLES (a refused value raises, and is not kept)."""
    del values  # the cache's key: pydantic-settings reads the same environment
    return Settings()


def _problem(error: Any) -> str:
    field = str(error["loc"][0]) if error["loc"] else "?"
    return f"{env_name(field)}: {error['msg']}, not {error['input']!r}"


DEFAULTS = Settings.model_construct()
"""Every setting's default, whatever the environment says."""
