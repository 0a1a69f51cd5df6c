"""`diff(from:, to:)` lists what changed between two log positions; `replay --until` digests."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from api.cli.main import app as cli
from api.graphql.build import build_schema
from api.graphql.context import Context
from api.importing.commands import import_lines
from projections.eventlog.entries import chained_of, stored_log
from projections.service import Store
from tests.conftest import ROOT, SOURCE, line, migrated, seed_lines

DOC = ROOT / "docs" / "audit.md"
QUERY = """
query ($from: Int!, $to: Int!, $first: Int) {
  diff(from: $from, to: $to, first: $first) {
    position eventType kind recordId fields reason keyId recordedAt
  }
}
"""


def ask(store: Store, query: str, **variables: Any) -> Any:
    result = asyncio.run(
        build_schema().execute(query, variable_values=variables, context_value=Context(store=store))
    )
    return result


def story(store: Store) -> dict[str, int]:
    """A weapon with a new category, two decisions, a keyed correction and a retraction."""
    weapon = line(
        "recordWeapon", id="zircon", name="3M22 Zircon", category="hypersonic-glide", sources=SOURCE
    )
    decisions = [
        line(
            "recordDecision",
            id=ident,
            actor="FRA",
            action="DELIVER",
            decidedOn="2024-03",
            headline=ident,
            sources=SOURCE,
        )
        for ident in ("a", "b")
    ]
    import_lines(store, [weapon, *decisions])
    recorded = store.head()
    correction = {
        "id": "a",
        "changes": {"headline": "A!", "decidedOn": "2024-06"},
        "reason": "the date was wrong",
        "sources": SOURCE,
    }
    _, corrected = store.execute("correctDecision", correction, key_id="k-editor")
    retraction = {"id": "b", "reason": "never happened", "sources": SOURCE}
    _, retracted = store.execute("retractDecision", retraction)
    assert corrected is not None and retracted is not None
    return {"recorded": recorded, "corrected": corrected, "retracted": retracted}


def test_diff_lists_each_recorded_added_corrected_and_retracted_event_by_record(
    store: Store,
) -> None:
    at = story(store)
    result = ask(store, QUERY, **{"from": 0, "to": store.head()})
    assert result.errors is None, result.errors
    rows = [{k: v for k, v in c.items() if k != "recordedAt"} for c in result.data["diff"]]
    none = {"fields": None, "reason": None, "keyId": None}
    assert rows == [
        {"position": 1, "eventType": "Recorded", "kind": "weapon", "recordId": "zircon", **none},
        {"position": 2, "eventType": "Added", "kind": "category", "recordId": "hypersonic-glide"}
        | none,
        {"position": 3, "eventType": "Recorded", "kind": "decision", "recordId": "a", **none},
        {"position": 4, "eventType": "Recorded", "kind": "decision", "recordId": "b", **none},
        {
            "position": at["corrected"],
            "eventType": "Corrected",
            "kind": "decision",
            "recordId": "a",
            "fields": ["decidedOn", "headline"],
            "reason": "the date was wrong",
            "keyId": "k-editor",
        },
        {
            "position": at["retracted"],
            "eventType": "Retracted",
            "kind": "decision",
            "recordId": "b",
            "fields": None,
            "reason": "never happened",
            "keyId": None,
        },
    ]
    log = {e["position"]: e["recordedAt"] for e in store.read.audit_log(first=10)}
    for change in result.data["diff"]:
        assert change["recordedAt"].replace("+00:00", "Z") == log[change["position"]]


def test_diff_shows_the_sources_of_each_correction_retraction_and_record(store: Store) -> None:
    at = story(store)
    reason = {"publisher": "Retraction Review", "quote": "it never happened"}
    _, later = store.execute("retractDecision", {"id": "a", "reason": "no", "sources": [reason]})
    query = (
        "query ($from: Int!, $to: Int!) { diff(from: $from, to: $to) "
        "{ sources { publisher quote } } }"
    )
    result = ask(store, query, **{"from": 0, "to": store.head()})
    assert result.errors is None, result.errors
    sources = [c["sources"] for c in result.data["diff"]]
    given = [{"publisher": "Test Gazette", "quote": "it happened"}]
    assert sources == [given, [], given, given, given, given, [reason]]
    assert later == at["retracted"] + 1


def test_diff_excludes_from_includes_to_and_pages_with_first(store: Store) -> None:
    at = story(store)
    only = ask(store, QUERY, **{"from": at["recorded"], "to": at["corrected"]})
    assert [c["position"] for c in only.data["diff"]] == [at["corrected"]]
    assert ask(store, QUERY, **{"from": 3, "to": 3}).data["diff"] == []
    page = ask(store, QUERY, **{"from": 0, "to": store.head(), "first": 2}).data["diff"]
    rest = ask(store, QUERY, **{"from": page[-1]["position"], "to": store.head()}).data["diff"]
    assert [c["position"] for c in page + rest] == list(range(1, store.head() + 1))


def test_diff_refuses_a_backwards_range_a_range_past_the_head_and_a_huge_page(
    store: Store,
) -> None:
    story(store)
    head = store.head()
    cases = {
        (3, 2, None): "to: must not be before from (3), got 2",
        (0, head + 1, None): f"to: is past the log head ({head}), got {head + 1}",
        (-1, 2, None): "from: must be 0 or more, got -1",
        (0, 2, 1001): "first: must be between 0 and 1000, got 1001",
    }
    for (start, end, first), message in cases.items():
        result = ask(store, QUERY, **{"from": start, "to": end, "first": first})
        assert result.data is None
        (error,) = result.errors
        assert error.message == message
        assert error.extensions == {"code": "BAD_USER_INPUT"}


def _doc_blocks() -> tuple[list[str], str, str]:
    text = DOC.read_text(encoding="utf-8")
    section = text[text.index("## What changed between two positions") :]
    stories = re.findall(r"```jsonl\n(.*?)```", text, re.S)
    query = re.search(r"```graphql\n(.*?)```", section, re.S)
    answer = re.search(r"```json\n(.*?)```", section, re.S)
    assert query and answer
    return stories, query.group(1), answer.group(1)


def test_the_diff_example_in_the_audit_docs_answers_as_shown(tmp_path: Path) -> None:
    stories, query, answer = _doc_blocks()
    store = migrated(f"sqlite:///{tmp_path / 'doc.sqlite3'}")
    try:
        for body in stories:
            import_lines(store, body.splitlines())
        result = ask(store, query)
    finally:
        store.close()
    assert result.errors is None, result.errors
    shown = json.loads(answer)
    for got, want in zip(result.data["diff"], shown["data"]["diff"], strict=True):
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT[\d:.]+\+00:00", got.pop("recordedAt"))
        want.pop("recordedAt")
    assert {"data": result.data} == shown


def _digests(output: str) -> dict[str, str]:
    return dict(re.findall(r"^(pt_\w+): ([0-9a-f]{64})$", output, re.M))


def test_replay_until_a_position_prints_the_digests_of_a_log_that_stopped_there(
    db_url: str, tmp_path: Path
) -> None:
    full = migrated(db_url)
    try:
        import_lines(full, seed_lines())
        head = full.head()
        until = head - 4
        prefix = [
            chained_of(e) for e in stored_log(full.app, full.engine) if e["position"] <= until
        ]
    finally:
        full.close()
    done = CliRunner().invoke(cli, ["replay", "--until", str(until), "--db", db_url])
    assert done.exit_code == 0, done.output
    assert f"up to position {until}" in done.output
    replayed = _digests(done.output)
    short = migrated(f"sqlite:///{tmp_path / 'prefix.sqlite3'}")
    try:
        short.recorder.append_chained(prefix)
        short.projector.catch_up()
        assert short.head() == until
        assert replayed == short.projector.digests()
        assert len(replayed) >= 7
    finally:
        short.close()
    again = CliRunner().invoke(cli, ["replay", "--db", db_url])
    assert _digests(again.output) != replayed
