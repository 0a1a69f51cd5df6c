"""Every example in docs/api.md runs, in order, against a fresh store and a real server."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
from graphql import OperationDefinitionNode, parse
from typer.testing import CliRunner
from websockets.sync.client import connect

from api.cli.main import app as cli
from api.graphql.build import build_schema
from api.http.app import create_app
from api.http.keys import KeyRing
from api.http.limits import query_hash
from tests.conftest import migrated
from tests.graphql_support import DECISION, RECORD_DECISION, running

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "api.md"
BLOCK = re.compile(r"```([^\n]*)\n(.*?)```", re.S)
HOLES = {  # placeholders the page uses for values that differ on every run
    "<time>": r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+00:00",
    "<hash>": "[0-9a-f]{64}",
    "<uuid>": "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
    "<key id>": "[0-9a-f]{12}",
}


def blocks() -> list[tuple[str, str]]:
    """(info string, body) of each fenced block, in document order."""
    return [(m.group(1).strip(), m.group(2)) for m in BLOCK.finditer(DOC.read_text("utf-8"))]


def matches(answer: Any, documented: Any) -> bool:
    """Equal, except that a placeholder string matches any value of its shape."""
    if isinstance(documented, str) and documented in HOLES:
        return isinstance(answer, str) and re.fullmatch(HOLES[documented], answer) is not None
    if isinstance(documented, dict):
        return (
            isinstance(answer, dict)
            and answer.keys() == documented.keys()
            and all(matches(answer[k], v) for k, v in documented.items())
        )
    if isinstance(documented, list):
        return (
            isinstance(answer, list)
            and len(answer) == len(documented)
            and all(matches(a, d) for a, d in zip(answer, documented, strict=True))
        )
    return bool(answer == documented and type(answer) is type(documented))


def _run_shell(line: str, db_url: str) -> None:
    if line.startswith("policy-timeline "):
        result = CliRunner().invoke(cli, [*shlex.split(line)[1:], "--db", db_url])
        assert result.exit_code == 0, result.output
    else:  # the schema export one-liner: run it and compare with the committed file
        command, _, target = line.partition(" > ")
        out = subprocess.run(
            [sys.executable, *shlex.split(command)[1:]], cwd=ROOT, capture_output=True, text=True
        )
        assert out.returncode == 0 and out.stdout == (ROOT / target).read_text("utf-8")


def _subscribe_and_see_a_write(base: str, document: str, client: httpx.Client, key: str) -> None:
    url = base.replace("http://", "ws://") + "/graphql"
    with connect(url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        ws.send(json.dumps({"type": "connection_init"}))
        assert json.loads(ws.recv(timeout=10))["type"] == "connection_ack"
        ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": document}}))
        french = {**DECISION, "id": "fra-2024-01-01-deliver", "actor": "FRA", "action": "DELIVER"}
        french.pop("treaty")
        while True:  # writes until the subscription is listening; each write is pushed
            client.post(
                "/graphql",
                json={"query": RECORD_DECISION, "variables": {"input": french}},
                headers={"Authorization": f"Bearer {key}"},
            )
            try:
                message = json.loads(ws.recv(timeout=1))
                break
            except TimeoutError:
                french["id"] = french["id"] + "-x"
    assert message["payload"]["data"]["timelineUpdated"]["role"] == "ACTOR"


def test_every_query_and_mutation_of_the_schema_has_an_example_with_its_response() -> None:
    examples = blocks()
    used: set[str] = set()
    for (info, body), (after, _) in zip(examples, [*examples[1:], ("", "")], strict=True):
        if info == "graphql" and after in ("json response", "json variables"):
            for op in parse(body).definitions:
                assert isinstance(op, OperationDefinitionNode)
                used |= {f.name.value for f in op.selection_set.selections}  # type: ignore[attr-defined]
    schema = build_schema()._schema
    assert schema.query_type is not None and schema.mutation_type is not None
    fields = {*schema.query_type.fields, *schema.mutation_type.fields}
    assert fields - used == set()


def test_every_example_in_the_graphql_guide_gives_the_documented_response(
    db_url: str, tmp_path: Path
) -> None:
    examples = blocks()
    assert len(examples) > 10
    store = migrated(db_url)
    shell = [(i, b) for i, b in examples if i == "sh"]
    for line in shell[0][1].strip().splitlines():  # keys are created before the server starts
        _run_shell(line, db_url)
    _, editor = KeyRing(store.engine).create("editor")
    registry: dict[str, str] = {}
    app = create_app(store)
    pending: dict[str, Any] = {}
    with running(app) as base, httpx.Client(base_url=base, timeout=10) as client:
        for info, body in examples:
            if info.startswith("graphql") and "subscription" in info:
                parse(body)
                pending = {}
                subscription = body
            elif info.startswith("graphql"):
                key = None if "anonymous" in info else editor
                pending = {"query": body, "variables": {}, "key": key}
            elif info == "json variables":
                pending["variables"] = json.loads(body)
            elif info == "json apq":
                pending = {"apq": json.loads(body)}
            elif info == "json response" and "apq" in pending:
                answer = client.post("/graphql", json=pending["apq"]).json()
                assert matches(answer, json.loads(body)), answer
            elif info == "json persisted":
                pending = {"persisted": json.loads(body)}
            elif info == "json response" and "persisted" in pending:
                registry[query_hash("{ integrity { ok headPosition } }")] = (
                    "{ integrity { ok headPosition } }"
                )
                persisted_app = create_app(store, persisted=registry)
                with running(persisted_app) as other, httpx.Client(base_url=other) as c2:
                    answer = c2.post("/graphql", json=pending["persisted"]).json()
                assert matches(answer, json.loads(body)), answer
            elif info == "json response":
                headers = {"Authorization": f"Bearer {pending['key']}"} if pending["key"] else {}
                request = {"query": pending["query"], "variables": pending["variables"]}
                answer = client.post("/graphql", json=request, headers=headers).json()
                assert matches(answer, json.loads(body)), (pending["query"], answer)
        _subscribe_and_see_a_write(base, subscription, client, editor)
    for line in shell[-1][1].strip().splitlines():
        _run_shell(line, db_url)
    store.close()
