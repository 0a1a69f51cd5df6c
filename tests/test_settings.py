"""One settings object: every environment variable the product reads is declared, documented
and parsed there, and a refused value names its variable."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from api.graphql.response_cache import ResponseCache
from api.http.live import Caps
from projections import settings
from projections.eventlog import durability
from projections.service import database_url
from projections.settings import SettingsError, current
from tests.conftest import ROOT

DEPLOYMENT = ROOT / "docs" / "deployment.md"
NAME = re.compile(r"POLICY_TIMELINE_[A-Z_]+")


def _configuration_section() -> str:
    text = DEPLOYMENT.read_text(encoding="utf-8")
    return text.split("### Configuration", 1)[1].split("\n### ", 1)[0]


def test_the_deployment_table_lists_exactly_the_settings() -> None:
    table = [row for row in _configuration_section().splitlines() if row.startswith("|")]
    documented = {name for row in table for name in NAME.findall(row)}
    assert documented == set(settings.VARIABLES)


def test_the_documented_error_is_the_one_given(monkeypatch: pytest.MonkeyPatch) -> None:
    example = re.search(r"such as `(POLICY_TIMELINE_POOL_SIZE: [^`]+)`", _configuration_section())
    assert example is not None
    monkeypatch.setenv("POLICY_TIMELINE_POOL_SIZE", "ten")
    with pytest.raises(SettingsError) as refused:
        current()
    assert str(refused.value) == " ".join(example.group(1).split())


def _environment_reads(path: Path) -> list[int]:
    """Lines of `path` that use os.environ or os.getenv for something other than `_allowed`."""
    text = path.read_text(encoding="utf-8")
    return [
        node.lineno
        for node in ast.walk(ast.parse(text))
        if isinstance(node, ast.Attribute)
        and node.attr in ("environ", "getenv")
        and isinstance(node.value, ast.Name)
        and node.value.id == "os"
        and not _allowed(text.splitlines()[node.lineno - 1])
    ]


def _allowed(line: str) -> bool:
    """`serve --workers` handing its options to its processes, and the CLI's import path for
    the benchmarks: environment, but not settings."""
    return "os.environ.update(" in line or "PYTHONPATH" in line


def test_nothing_but_the_settings_reads_the_environment() -> None:
    readers = {}
    for folder in ("domain", "projections", "api"):
        for path in (ROOT / folder).rglob("*.py"):
            relative = path.relative_to(ROOT).as_posix()
            if relative == "projections/settings.py":
                continue
            reads = _environment_reads(path)
            if reads:
                readers[relative] = reads
    assert readers == {}


def test_defaults_apply_when_a_variable_is_unset_or_empty(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in settings.VARIABLES:
        monkeypatch.delenv(name, raising=False)
    assert current() == settings.DEFAULTS
    monkeypatch.setenv("POLICY_TIMELINE_DB", "")
    monkeypatch.setenv("POLICY_TIMELINE_FRAME_ANCESTORS", "  ")
    assert database_url() == "sqlite:///var/policy-timeline.sqlite3"
    assert current().frame_ancestors == "*"


@pytest.mark.parametrize(
    ("value", "size"),
    [("67108864", 64 * 1024**2), ("64M", 64 * 1024**2), ("64mb", 64 * 1024**2), ("1 G", 1024**3)],
)
def test_a_size_is_bytes_or_a_binary_multiple(
    monkeypatch: pytest.MonkeyPatch, value: str, size: int
) -> None:
    monkeypatch.setenv("POLICY_TIMELINE_RESPONSE_CACHE_BYTES", value)
    assert ResponseCache.from_env().max_bytes == size


@pytest.mark.parametrize(
    ("name", "value", "problem"),
    [
        ("POLICY_TIMELINE_RESPONSE_CACHE_BYTES", "lots", "expected a size such as"),
        ("POLICY_TIMELINE_RESPONSE_CACHE_BYTES", "-1", "expected a size such as"),
        ("POLICY_TIMELINE_MAX_SUBSCRIPTIONS_PER_ADDRESS", "0", "greater than 0"),
        ("POLICY_TIMELINE_SQLITE_SYNCHRONOUS", "OFF", "'FULL' or 'NORMAL'"),
        ("POLICY_TIMELINE_VERIFY_INTERVAL", "soon", "valid number"),
        ("POLICY_TIMELINE_PRODUCTION", "maybe", "valid boolean"),
    ],
)
def test_a_refused_value_names_its_variable_and_what_was_given(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, problem: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as refused:
        current()
    message = str(refused.value)
    assert message.startswith(f"{name}: ") and problem in message
    assert message.endswith(f"not {value!r}")


def test_each_use_reads_the_environment_as_it_is_now(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(durability.SYNCHRONOUS_ENV, " normal ")
    assert durability.sqlite_synchronous() == "NORMAL"
    monkeypatch.setenv("POLICY_TIMELINE_MAX_SUBSCRIPTIONS_PER_CONNECTION", "3")
    assert Caps.from_env().connection == 3
    monkeypatch.setenv("POLICY_TIMELINE_ALLOWED_ORIGINS", " https://a.example, ,https://b.example")
    assert current().allowed_origins == ("https://a.example", "https://b.example")
