"""Without Chromium or node their tests skip and say what is missing; where `make test` and CI
require them, the same tests fail instead of passing unnoticed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import CHROMIUM_ENV, REQUIRE_ENV, ROOT

pytestmark = pytest.mark.slow  # four more pytest runs, each collecting its module

BROWSER_TEST = (
    "tests/test_bench_embed.py::test_the_generated_timelines_have_exactly_the_asked_entries"
)
NODE_TEST = (
    "tests/test_graphql_over_http.py::test_the_graphql_http_audit_suite_finds_nothing_to_warn_about"
)


def _pytest(test: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k != REQUIRE_ENV} | env
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rs", test],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_a_browser_test_skips_without_chromium_saying_so_and_fails_where_required(
    tmp_path: Path,
) -> None:
    missing = str(tmp_path / "no-chromium")
    skipped = _pytest(BROWSER_TEST, **{CHROMIUM_ENV: missing})
    assert skipped.returncode == 0, skipped.stdout
    assert "1 skipped" in skipped.stdout
    assert f"Chromium is missing: {missing} is not an executable" in skipped.stdout
    failed = _pytest(BROWSER_TEST, **{CHROMIUM_ENV: missing, REQUIRE_ENV: "browser node"})
    assert failed.returncode != 0 and "1 error" in failed.stdout
    assert f"{REQUIRE_ENV} requires it" in failed.stdout


def test_a_node_test_skips_without_node_saying_so_and_fails_where_required() -> None:
    no_node = str(Path(sys.executable).parent)  # the virtualenv's programs only
    skipped = _pytest(NODE_TEST, PATH=no_node)
    assert skipped.returncode == 0, skipped.stdout
    assert "1 skipped" in skipped.stdout and "node is missing from PATH" in skipped.stdout
    failed = _pytest(NODE_TEST, PATH=no_node, **{REQUIRE_ENV: "node"})
    assert failed.returncode != 0 and f"{REQUIRE_ENV} requires it" in failed.stdout
