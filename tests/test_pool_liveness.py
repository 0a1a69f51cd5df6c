"""A pooled PostgreSQL connection is pinged at check-out only after resting: a busy one goes
straight to its statement, and connections the server dropped are replaced by themselves."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import DBAPIError

from projections.eventlog import recorder
from projections.service import Store
from tests.conftest import _reset_pg, migrated


@pytest.fixture
def store(pg_url: str) -> Iterator[Store]:
    _reset_pg(pg_url)
    opened = migrated(pg_url)
    yield opened
    opened.close()
    opened.engine.dispose()


def pings(engine: Engine) -> list[float]:
    """A list that grows by one for every ping the pool's connections answer."""
    seen: list[float] = []
    dialect = engine.dialect
    plain = dialect.do_ping

    def counted(dbapi_connection: object) -> bool:
        seen.append(time.monotonic())
        return plain(dbapi_connection)

    dialect.do_ping = counted  # type: ignore[method-assign]
    return seen


def drop_connections(pg_url: str) -> None:
    """The server ends every other session on this database, as a restart would."""
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid != pg_backend_pid()"
            )
        )
    admin.dispose()


def test_a_busy_connection_is_not_pinged_and_a_rested_one_is(store: Store) -> None:
    seen = pings(store.engine)
    store.read.timeline("country", "UKR")
    first = len(seen)
    for _ in range(5):
        store.read.timeline("country", "UKR")
    assert len(seen) == first  # checked in a moment ago each time: no round trip first
    time.sleep(recorder.PING_AFTER_REST + 0.2)
    store.read.timeline("country", "UKR")
    assert len(seen) == first + 1


def test_connections_the_server_dropped_are_replaced_after_a_rest(
    store: Store, pg_url: str
) -> None:
    assert store.read.timeline("country", "UKR").entries == []
    drop_connections(pg_url)
    time.sleep(recorder.PING_AFTER_REST + 0.2)
    # The ping finds the dead connection and the pool connects anew: no error at all.
    assert store.read.timeline("country", "UKR").entries == []
    assert store.head() == 0


def test_a_connection_dropped_while_busy_fails_once_then_the_pool_connects_anew(
    store: Store, pg_url: str
) -> None:
    store.read.timeline("country", "UKR")
    drop_connections(pg_url)
    with pytest.raises(DBAPIError) as failed:
        store.read.timeline("country", "UKR")
    assert failed.value.connection_invalidated
    assert store.read.timeline("country", "UKR").entries == []
