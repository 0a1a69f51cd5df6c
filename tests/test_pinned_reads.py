"""Reads pinned to one connection leave it to the pool as they found it, even on an error."""

from __future__ import annotations

from typing import Any

import pytest

from projections.service import Store


def _driver(read: Any) -> Any:
    return read.engine.conn.connection.driver_connection


def test_a_connection_goes_back_to_the_pool_in_transactions_after_pinned_reads(
    store: Store,
) -> None:
    """On PostgreSQL pinned reads run in autocommit; the connection leaves the block with it
    off again (writes on it must stay atomic), after an error in the block as well."""
    with store.read.pinned() as read:
        assert read.decisions(["no-such-decision"]) == {}
        driver = _driver(read)
    with pytest.raises(RuntimeError), store.read.pinned() as read:
        read.decisions(["no-such-decision"])
        failed = _driver(read)
        raise RuntimeError("a read failed")
    if store.dialect == "postgresql":
        assert driver.autocommit is False
        assert failed.autocommit is False
    assert store.read.decisions(["no-such-decision"]) == {}  # the pool still serves reads
