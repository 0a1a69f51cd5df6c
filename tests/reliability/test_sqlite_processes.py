"""Two import processes and a server writing to one SQLite file: no lock error, nothing lost."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.http.app import create_app
from tests.conftest import SOURCE, migrated
from tests.graphql_support import RECORD_DECISION, running
from tests.reliability.support import assert_log_has_no_gaps, cli_process, editor_key

pytestmark = pytest.mark.reliability

PER_FILE = 300  # decisions per import file, the first SHARED of them in both files
SHARED = 60
HTTP_WRITES = 60


def _decision(ident: str, country: str) -> dict[str, Any]:
    return {
        "id": ident,
        "actor": country,
        "action": "ADOPT_POLICY",
        "weapons": [{"category": "cluster-munition"}],
        "decidedOn": "2020-01-01",
        "headline": f"decision {ident}",
        "sources": SOURCE,
    }


def _file(path: Path, prefix: str) -> list[str]:
    ids = [f"shared-{i}" for i in range(SHARED)]
    ids += [f"{prefix}-{i}" for i in range(PER_FILE - SHARED)]
    lines = [{"op": "recordDecision", "input": _decision(i, "POL")} for i in ids]
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n", encoding="utf-8")
    return ids


def _http_writes(url: str, key: str) -> list[tuple[int, dict[str, Any]]]:
    results = []
    with httpx.Client(base_url=url, timeout=120) as client:
        for n in range(HTTP_WRITES):
            response = client.post(
                "/graphql",
                json={
                    "query": RECORD_DECISION,
                    "variables": {"input": _decision(f"http-{n}", "FIN")},
                },
                headers={"Authorization": f"Bearer {key}"},
            )
            results.append((response.status_code, response.json()))
    return results


def test_two_imports_and_a_server_share_one_sqlite_file_without_lock_errors(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'shared.sqlite3'}"
    store = migrated(url)
    key = editor_key(store)
    first = _file(tmp_path / "a.jsonl", "a")
    second = _file(tmp_path / "b.jsonl", "b")
    with running(create_app(store)) as base, ThreadPoolExecutor(1) as pool:
        imports = [cli_process("import", str(tmp_path / f), db=url) for f in ("a.jsonl", "b.jsonl")]
        writes = pool.submit(_http_writes, base, key)
        outputs = [p.communicate(timeout=240) for p in imports]
        answers = writes.result()

    for process, (stdout, stderr) in zip(imports, outputs, strict=True):
        assert "locked" not in stdout + stderr
        assert process.returncode == 0, stdout + stderr
        assert stdout.strip().splitlines()[-1].endswith("rejected 0"), stdout
    for status, body in answers:
        assert status == 200 and "errors" not in body, body
        assert body["data"]["recordDecision"]["__typename"] == "RecordDecisionSuccess", body
    store.projector.catch_up()
    expected = set(first) | set(second) | {f"http-{n}" for n in range(HTTP_WRITES)}
    assert all(store.read.decision(ident) for ident in expected)
    assert store.head() == len(expected)
    assert_log_has_no_gaps(store)
    resumed = store.projector.digests()
    store.projector.rebuild()
    assert store.projector.digests() == resumed
    store.close()
