"""The benchmark suite: deterministic synthetic data that imports cleanly, and a JSON report."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from api.importing.commands import import_lines
from bench.generator import LIFECYCLES, lines
from domain.commands import INPUTS
from domain.values import Action
from projections.service import Store

ROOT = Path(__file__).resolve().parent.parent


def test_the_generator_gives_the_same_operations_for_the_same_seed() -> None:
    assert list(lines(600, seed=7)) == list(lines(600, seed=7))
    assert list(lines(600, seed=7)) != list(lines(600, seed=8))


def test_the_generator_covers_every_operation_and_only_refers_to_earlier_ids() -> None:
    ops = [json.loads(text) for text in lines(2000, seed=1)]
    assert {op["op"] for op in ops} == set(INPUTS)
    seen: set[str] = set()
    for op in ops:
        data = op["input"]
        refs = [data.get("about"), data.get("reverses"), data.get("treaty")]
        refs += [w.get("system") for w in data.get("weapons", [])]
        if op["op"] in ("correctDecision", "retractDecision"):
            refs.append(data["id"])
        assert all(ref in seen for ref in refs if ref is not None), op
        seen.add(data["id"])


def test_every_generated_line_passes_validation_and_imports(store: Store) -> None:
    report = import_lines(store, lines(250, seed=3))
    assert report.errors == []
    assert report.summary() == "imported 250, unchanged 0, rejected 0"
    assert store.head() >= 250


@pytest.mark.slow  # the documented benchmark command, run whole: several processes
def test_bench_json_as_documented_prints_one_object_with_every_ratio(tmp_path: Path) -> None:
    doc = (ROOT / "docs" / "performance.md").read_text(encoding="utf-8")
    command = next(t for t in doc.splitlines() if t.startswith("policy-timeline bench "))
    env = {**os.environ, "POLICY_TIMELINE_DB": f"sqlite:///{tmp_path / 'store.sqlite3'}"}
    done = subprocess.run(
        [sys.executable, "-m", "api.cli", *shlex.split(command)[1:]],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["sizes"] == {"small": 100, "big": 300}
    assert result["quick"] is True
    assert result["ingest"]["big"]["events"] >= 300
    for key in (
        "ingest",
        "rebuild",
        "rebuild_one_process",
        "country_timeline_big_over_small",
        "weapon_timeline_big_over_small",
        "decision_big_over_small",
        "country_timeline_as_of_over_current",
        "decision_as_of_over_current",
        "graphql_over_bare",
        "verify",
        "verify_chain",
        "treaty_parties_big_over_small",
        "http_country_timeline_big_over_small",
        "http_treaty_parties_big_over_small",
        "http_throughput",
        "rebuild_bound",
        "ingest_bound",
    ):
        assert isinstance(result["ratios"][key], float)
    # The floor wrote the big store's rows: every projection table and one log row per event.
    assert result["floor"]["rows"]["policy_log"] == result["floor"]["events"]
    assert result["floor"]["rows"]["pt_timeline"] > 0
    assert 0 < result["ratios"]["rebuild_bound"] < 1
    # Over HTTP both servers answered the same rows, and nothing failed.
    assert result["http"]["throughput"]["same_rows"] is True
    assert result["http"]["throughput"]["ours"]["errors"] == 0
    assert list(tmp_path.iterdir()) == []


def test_treaty_actions_are_rare_and_each_state_walks_one_lifecycle_per_treaty() -> None:
    decisions = [
        op["input"] for op in map(json.loads, lines(20_000, seed=5)) if op["op"] == "recordDecision"
    ]
    treaty_actions = [d for d in decisions if d.get("treaty")]
    assert 0.01 < len(treaty_actions) / len(decisions) < 0.05
    walks: dict[tuple[str, str], list[str]] = {}
    for d in treaty_actions:
        walks.setdefault((d["actor"], d["treaty"]), []).append(d["action"])
    # Each pair's actions, in file order, are the start of one of the lifecycles.
    assert all(any(walk == life[: len(walk)] for life in LIFECYCLES) for walk in walks.values())
    # With a higher share, every action kind occurs.
    raised = {
        op["input"]["action"]
        for op in map(json.loads, lines(10_000, seed=5, treaty_share=0.5))
        if op["op"] == "recordDecision"
    }
    assert raised == {a.value for a in Action}
