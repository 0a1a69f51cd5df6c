"""The worked examples of docs/import.md run as written, through the real command."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

DOC = ROOT / "docs" / "import.md"
BLOCK = re.compile(r"```(jsonl|console)\n(.*?)```", re.S)


def _cli(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_import_examples_in_the_docs_print_what_the_docs_say(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "POLICY_TIMELINE_DB": f"sqlite:///{tmp_path / 'docs.sqlite3'}",
        "PYTHONPATH": str(ROOT),
    }
    blocks = BLOCK.findall(DOC.read_text(encoding="utf-8"))
    files = iter(body for kind, body in blocks if kind == "jsonl")
    consoles = [body for kind, body in blocks if kind == "console"]
    assert len(consoles) == 2
    for console in consoles:
        commands = re.split(r"^\$ ", console, flags=re.M)[1:]
        name = commands[0].partition("\n")[0].split()[-1]
        (tmp_path / name).write_text(next(files), encoding="utf-8")
        for command in commands:
            argv, _, expected = command.partition("\n")
            result = _cli(argv.split()[1:], env, tmp_path)
            shown = (result.stderr + result.stdout).strip()
            assert shown == expected.strip(), argv
            assert result.returncode == (2 if "rejected 0" not in expected else 0)
