"""Events are forever: a log exported by the code of 1 December 2026 still decodes and replays."""

from __future__ import annotations

import json
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from api.importing.exported import import_export_lines
from projections.audit.checkpoint import public_vkey, sign_note
from projections.audit.checks import verify_export, verify_store
from projections.eventlog.merkle import root
from projections.readmodels.rebuild import rebuild
from projections.service import Store

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "export-2026-12-01.jsonl"
"""Written by `export` before certainty, reportedOn, departsFrom, basis and archiveUrl existed."""


def fixture_lines() -> list[str]:
    return FIXTURE.read_text(encoding="utf-8").splitlines()


def signed_fixture() -> tuple[list[str], str]:
    """The fixture with a checkpoint of its own log signed by a fresh key, and that key:
    a restore takes an export's events only under a checkpoint signed by a trusted key."""
    key = Ed25519PrivateKey.generate()
    lines = fixture_lines()
    header = json.loads(lines[0])
    leaves = [bytes.fromhex(json.loads(x)["leafHash"]) for x in lines[1:] if x.strip()]
    header["checkpoint"] = sign_note(key, "policy-timeline", len(leaves), root(leaves))
    return [json.dumps(header), *lines[1:]], public_vkey(key, "policy-timeline")


def test_the_old_export_verifies_offline() -> None:
    report = verify_export(fixture_lines())
    assert report.ok, report.lines()
    assert report.head_position == 19


def test_the_old_log_imports_verifies_and_replays_with_the_new_fields_defaulted(
    store: Store,
) -> None:
    report = import_export_lines(store, *_signed_args())
    assert not report.errors, report.errors
    assert report.imported == 19
    assert verify_store(store).ok
    before = store.projector.digests()
    assert rebuild(store).digests == before

    atacms = store.read.decision("usa-2024-11-17-atacms-strikes-russia")
    assert atacms is not None
    assert atacms["status"] == "CORRECTED"
    assert atacms["scope"] == "strikes in depth on Russian territory"
    assert "certainty" not in atacms and "reportedOn" not in atacms  # OFFICIAL by default
    (entry,) = store.read.timeline("system", "atacms").entries
    assert entry["certainty"] == "OFFICIAL"
    history = store.read.history([atacms["id"]])[atacms["id"]]
    assert [h["eventType"] for h in history] == ["Recorded", "Corrected"]
    assert history[1]["sources"] == [{"publisher": "Test Gazette", "quote": "it happened"}]
    assert history[1]["fields"] == ["scope"]

    retracted = store.read.timeline("country", "FRA", include_retracted=True).entries
    assert [e["status"] for e in retracted] == ["RETRACTED"]
    categories = store.read.records("category", ids=["test-glide-bomb-category"])
    assert [c["introducedBy"] for c in categories] == ["test-glide-bomb"]
    observations = store.read.observations("landmine-casualties")
    assert len(observations) == 3 and all("basis" not in o for o in observations)


def _signed_args() -> tuple[list[str], list[str]]:
    lines, vkey = signed_fixture()
    return lines, [vkey]
