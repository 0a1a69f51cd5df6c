"""`import` refuses hostile JSON text with `line N:` and exit 2, storing nothing (both backends)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from domain.commands import parse_input
from domain.errors import InvalidInput
from tests.conftest import ROOT, SOURCE, cli, line, migrated

CLI = str(ROOT / ".venv" / "bin" / "policy-timeline")
WEAPON = line(
    "recordWeapon",
    id="atacms",
    name="ATACMS",
    category="short-range-ballistic-missile",
    sources=SOURCE,
)


def decision(**changes: object) -> dict[str, object]:
    fields: dict[str, object] = {
        "id": "d1",
        "actor": "USA",
        "action": "DELIVER",
        "decidedOn": "2024",
        "headline": "h",
        "sources": SOURCE,
    }
    return {**fields, **changes}


def decision_line(**changes: object) -> bytes:
    return json.dumps({"op": "recordDecision", "input": decision(**changes)}).encode()


HOSTILE: dict[str, tuple[bytes, str]] = {
    "invalid UTF-8": (b'{"op": "recordWeapon", "input": {"id": "\xff\xfe"}}', "not valid UTF-8"),
    "deep nesting": (b"[" * 1000 + b"]" * 1000, "nested more than"),
    "deep nesting in an object": (
        b'{"op": "recordDecision", "input": ' + b'{"a":' * 1000 + b"1" + b"}" * 1001,
        "nested more than",
    ),
    "huge integer": (
        b'{"op": "recordObservation", "input": {"value": ' + b"9" * 5000 + b"}}",
        "a number of 5000 characters",
    ),
    "huge float exponent": (b'{"op": "x", "input": {"v": 1e999999}}', "out of range"),
    "duplicate key": (
        b'{"op": "recordDecision", "op": "recordTreaty", "input": {}}',
        "duplicate key 'op'",
    ),
    "NaN": (b'{"op": "x", "input": {"v": NaN}}', "NaN is not JSON"),
    "lone surrogate escape": (
        b'{"op": "recordWeapon", "input": {"id": "a", "name": "\\ud800"}}',
        "lone surrogate",
    ),
    "full-width digits in a date": (
        decision_line(decidedOn="\uff12\uff10\uff12\uff14"),
        "decidedOn",
    ),
    "Arabic-Indic digits in a date": (
        decision_line(decidedOn="\u0662\u0660\u0662\u0664-\u0660\u0661"),
        "decidedOn",
    ),
    "control character in a URL": (
        decision_line(sources=[{"publisher": "P", "url": "https://example.org/\x01a"}]),
        "control characters (found U+0001)",
    ),
    "C1 control in a URL": (
        decision_line(sources=[{"publisher": "P", "url": "https://example.org/\u009ba"}]),
        "control characters (found U+009B)",
    ),
}


def refused_and_nothing_stored(db_url: str, returncode: int, stderr: str, message: str) -> None:
    assert returncode == 2, stderr
    assert "Traceback" not in stderr
    assert "line 2:" in stderr and message in stderr, stderr
    store = migrated(db_url)
    try:
        assert store.head() == 0  # the valid first line was not stored either
    finally:
        store.close()


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_a_hostile_line_is_named_and_nothing_is_stored(
    name: str, db_url: str, tmp_path: Path
) -> None:
    """The `import` command itself, run in this process (a process per case would spend its
    time starting Python; the next test runs it as its own process)."""
    bad, message = HOSTILE[name]
    path = tmp_path / "in.jsonl"
    path.write_bytes(WEAPON.encode() + b"\n" + bad + b"\n")
    done = cli("import", str(path), "--db", db_url)
    refused_and_nothing_stored(db_url, done.returncode, done.stderr, message)


def test_the_installed_command_exits_2_naming_the_line(db_url: str, tmp_path: Path) -> None:
    bad, message = HOSTILE["invalid UTF-8"]
    path = tmp_path / "in.jsonl"
    path.write_bytes(WEAPON.encode() + b"\n" + bad + b"\n")
    done = subprocess.run(
        [CLI, "import", str(path), "--db", db_url], capture_output=True, check=False, timeout=120
    )
    stderr = done.stderr.decode("utf-8", "replace")
    refused_and_nothing_stored(db_url, done.returncode, stderr, message)


@pytest.mark.parametrize(
    "digits",
    [
        "\uff12\uff10\uff12\uff14",
        "\u0662\u0660\u0662\u0664",
        "\u06f2\u06f0\u06f2\u06f4",
        "\u0968\u0966\u0968\u096a",
        "2024-\uff10\uff11",
    ],
)
def test_graphql_and_import_share_the_ascii_date_rule(digits: str) -> None:
    with pytest.raises(InvalidInput, match="decidedOn"):
        parse_input("recordDecision", decision(decidedOn=digits))


def test_a_plain_url_and_date_are_still_accepted() -> None:
    source = {"publisher": "P", "url": "https://example.org/a?b=c#d"}
    parse_input("recordDecision", decision(decidedOn="2024-01-31", sources=[source]))
