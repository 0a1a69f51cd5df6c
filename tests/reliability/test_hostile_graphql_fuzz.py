"""Schemathesis in GraphQL mode against a running server: no 5xx, no masked internal errors."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.graphql.build import schema_sdl
from api.http.app import create_app
from api.importing.commands import import_file
from tests.conftest import SEED, migrated
from tests.graphql_support import running
from tests.reliability.support import editor_key

pytestmark = [pytest.mark.reliability, pytest.mark.slow]

EXAMPLES_PER_OPERATION = 60  # x 17 operations: more than 1,000 generated operations
SCHEMA = schemathesis.graphql.from_file(schema_sdl())


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """A seeded SQLite store behind a real server, and an editor key for the mutations."""
    path: Path = tmp_path_factory.mktemp("fuzz") / "store.sqlite3"
    store = migrated(f"sqlite:///{path}")
    import_file(store, SEED)
    key = editor_key(store)
    with running(create_app(store)) as url:
        yield url, key
    store.close()


def _check(response: Any) -> None:
    assert response.status_code < 500, response.text
    body = response.json()
    codes = [(e.get("extensions") or {}).get("code") for e in body.get("errors") or []]
    assert "INTERNAL_SERVER_ERROR" not in codes, body


def test_a_thousand_generated_operations_get_no_5xx_and_no_internal_error(
    server: tuple[str, str],
) -> None:
    url, key = server
    sent = 0
    for result in SCHEMA.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy(), auth=st.booleans())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case: Any, auth: bool) -> None:
            nonlocal sent
            headers = {"Authorization": f"Bearer {key}"} if auth else {}
            _check(case.call(base_url=f"{url}/graphql", headers=headers, timeout=30))
            sent += 1

        run()
    assert sent >= 1000
