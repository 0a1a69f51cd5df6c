"""Node clients for the tests (graphql-http's audit, TimelineJS), installed from npm into var/."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tests.conftest import ROOT

SOURCES = ROOT / "tests" / "node"
PREFIX = ROOT / "var" / "node"
INSTALL_TIMEOUT = 600


def node_prefix() -> Path:
    """var/node with the packages of tests/node/package.json installed (once) and our scripts."""
    wanted = (SOURCES / "package.json").read_text(encoding="utf-8")
    stamp = PREFIX / ".installed"
    if not (stamp.is_file() and stamp.read_text(encoding="utf-8") == wanted):
        npm = shutil.which("npm")
        if npm is None or shutil.which("node") is None:
            raise RuntimeError("these tests need node and npm on PATH (`make node` checks)")
        PREFIX.mkdir(parents=True, exist_ok=True)
        (PREFIX / "package.json").write_text(wanted, encoding="utf-8")
        subprocess.run(
            [npm, "install", "--no-audit", "--no-fund", "--no-package-lock", "--loglevel=error"],
            cwd=PREFIX,
            check=True,
            timeout=INSTALL_TIMEOUT,
        )
        stamp.write_text(wanted, encoding="utf-8")  # only once everything is in place
    for script in SOURCES.glob("*.mjs"):  # scripts resolve packages from where they are
        shutil.copyfile(script, PREFIX / script.name)
    return PREFIX


if __name__ == "__main__":
    print(node_prefix())
