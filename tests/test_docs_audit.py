"""The walk-through in docs/audit.md runs as written, through the real commands."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from api.graphql.build import build_schema
from api.graphql.context import Context
from tests.conftest import ROOT, migrated

DOC = ROOT / "docs" / "audit.md"
BLOCK = re.compile(r"```(jsonl|console|graphql)\n(.*?)```", re.S)
HOLES = {
    "<hash>": "[0-9a-f]{64}",
    "<base64>": "[A-Za-z0-9+/=]+",
    "<id>": "[0-9a-f]{8}",
    "<vkey>": r"\S+",
}


def _pattern(expected: str) -> re.Pattern[str]:
    text = re.escape(expected.strip())
    for hole, regex in HOLES.items():
        text = text.replace(re.escape(hole), regex)
    return re.compile(text)


def _run(argv: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    if argv[0] == "python":
        command = [sys.executable, *argv[1:]]
    else:
        command = [sys.executable, "-m", "api.cli", *argv[1:]]
    return subprocess.run(
        command, env=env, cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


def test_the_audit_walk_through_in_the_docs_prints_what_the_docs_say(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'docs.sqlite3'}"
    env = {
        **os.environ,
        "POLICY_TIMELINE_DB": url,
        "POLICY_TIMELINE_SIGNING_KEY": str(tmp_path / "signing.key"),
        "PYTHONPATH": str(ROOT),
    }
    shutil.copy(ROOT / "projections" / "audit" / "verifier.py", tmp_path / "verifier.py")
    blocks = BLOCK.findall(DOC.read_text(encoding="utf-8"))
    files = [body for kind, body in blocks if kind == "jsonl"]
    for name, body in zip(["story.jsonl", "more.jsonl"], files, strict=True):
        (tmp_path / name).write_text(body, encoding="utf-8")
    vkey = ""
    ran = 0
    for kind, body in blocks:
        if kind == "jsonl":
            continue
        if kind == "graphql":
            store = migrated(url)
            try:
                result = asyncio.run(
                    build_schema().execute(body, context_value=Context(store=store))
                )
            finally:
                store.close()
            assert result.errors is None, result.errors
            (tmp_path / "proof.json").write_text(json.dumps({"data": result.data}))
            continue
        for command in re.split(r"^\$ ", body, flags=re.M)[1:]:
            line, _, expected = command.partition("\n")
            argv = line.replace("<vkey>", vkey).split()
            result = _run(argv, env, tmp_path)
            shown = (result.stderr + result.stdout).strip()
            assert _pattern(expected).fullmatch(shown), (line, shown)
            assert result.returncode == 0, line
            found = re.search(r"^verifier key: (\S+)$", result.stderr, re.M)
            vkey = found.group(1) if found else vkey
            ran += 1
    assert ran == 7
