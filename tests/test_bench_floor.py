"""The bench's floor writes exactly the rows the read models hold, on each backend."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import func, inspect, select

from api.importing.commands import import_lines
from bench.floor import write_floor
from bench.generator import lines
from bench.run import floor_bounds, temporary_urls
from projections.eventlog.ledger import log
from projections.readmodels import tables
from tests.conftest import PG_ENV, migrated


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_the_floor_writes_every_projection_and_log_row_of_the_store(backend: str) -> None:
    base = os.environ.get(PG_ENV) if backend == "postgresql" else None
    if backend == "postgresql" and not base:
        pytest.skip(f"{PG_ENV} is not set")
    with temporary_urls(backend, base, 2) as (store_url, scratch_url):
        store = migrated(store_url)
        # Treaty actions raised, so standing spans and compliance flags have rows too.
        assert import_lines(store, lines(600, seed=4, treaty_share=0.3)).errors == []
        floor = write_floor(store, scratch_url)
        scratch = migrated(scratch_url)
        try:
            assert floor["events"] == store.head()
            assert floor["rows"]["pt_flags"] > 0
            assert floor["rows"]["pt_standing"] > 0
            # Same read-model rows, byte for byte, and one log row per event.
            assert scratch.projector.digests() == store.projector.digests()
            with scratch.engine.connect() as conn:
                logged = conn.execute(select(func.count()).select_from(log)).scalar_one()
            assert logged == floor["rows"]["policy_log"] == store.head()
            assert floor["projection_seconds"] > 0 and floor["log_seconds"] > 0
            # Indexes dropped for the load are all built again.
            found = inspect(scratch.engine)
            for table in tables.READ_MODELS:
                names = {i["name"] for i in found.get_indexes(table.name)}
                assert names == {i.name for i in table.indexes}, table.name
        finally:
            scratch.close()
            store.close()


def test_the_bounds_are_the_baselines_over_baseline_plus_floor() -> None:
    result = {
        "floor": {"events": 1000, "projection_seconds": 0.3, "log_seconds": 0.1},
        "rebuild": {"baseline_events_per_s": 10_000.0},  # reading alone: 0.1 s
        "ingest": {"big": {"events": 1000, "baseline_events_per_s": 5_000.0}},  # saving: 0.2 s
    }
    assert floor_bounds(result) == {"rebuild_bound": 0.25, "ingest_bound": 0.333}
    result["ingest"]["big"]["parse_seconds"] = 0.4  # validating the lines: 0.4 s more
    assert floor_bounds(result)["ingest_bound"] == 0.2
    assert floor_bounds({}) == {}
