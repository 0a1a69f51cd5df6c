"""Every third-party package the code imports is declared in pyproject.toml, where it belongs:
the installed product's imports in `dependencies`, the tests' and tools' in the `dev` extra."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

from tests.conftest import ROOT

PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
OURS = {"domain", "projections", "api", "bench", "tests", "data"}
# Code that lives in the checkout but is not what an installed product runs.
DEV_CODE = ("bench/", "tests/", "data/")


def _name(requirement: str) -> str:
    """The normalised distribution name of a requirement (PEP 503)."""
    match = re.match(r"[A-Za-z0-9._-]+", requirement)
    assert match, requirement
    return re.sub(r"[-_.]+", "-", match.group()).lower()


RUNTIME = {_name(r) for r in PROJECT["dependencies"]}
DEV = {_name(r) for r in PROJECT["optional-dependencies"]["dev"]}


def _imports(path: Path) -> set[str]:
    """The top-level names of the absolute imports of one module."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names - OURS - set(sys.stdlib_module_names) - {"__future__"}


def _distributions(dev: bool) -> dict[str, set[str]]:
    """Distribution name -> the modules importing it, for the product's code or the rest."""
    provided = packages_distributions()
    found: dict[str, set[str]] = {}
    for folder in ("domain", "projections", "api", "bench", "tests", "data"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if relative.startswith(DEV_CODE) != dev:
                continue
            for module in _imports(path):
                assert module in provided, f"{relative} imports {module}, which is not installed"
                for dist in provided[module]:
                    found.setdefault(_name(dist), set()).add(relative)
    return found


def test_the_product_imports_exactly_its_declared_dependencies() -> None:
    imported = _distributions(dev=False)
    undeclared = {d: sorted(where)[:3] for d, where in imported.items() if d not in RUNTIME}
    assert not undeclared, f"imported by the product but not in dependencies: {undeclared}"
    unused = RUNTIME - set(imported)
    assert not unused, f"in dependencies but imported by no shipped module (dev extra?): {unused}"


def test_tests_and_tools_import_only_declared_packages() -> None:
    imported = _distributions(dev=True)
    undeclared = {d: sorted(where)[:3] for d, where in imported.items() if d not in RUNTIME | DEV}
    assert not undeclared, f"imported by tests or tools but declared nowhere: {undeclared}"


def test_the_scan_sees_third_party_imports() -> None:
    """The scan itself: it finds the libraries the product is built on."""
    assert {"eventsourcing", "strawberry-graphql", "graphql-core"} <= set(_distributions(False))
    assert {"pytest", "hypothesis"} <= set(_distributions(True))
