"""Property test: a rebuild after any sequence of operations has the incremental digests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hypothesis import given

from projections.readmodels.rebuild import rebuild
from tests.test_asof_properties import EXAMPLES, answers, fresh, operations, run


@given(ops=operations())
@EXAMPLES
def test_a_rebuild_after_any_sequence_of_operations_has_the_incremental_digests(
    db_url: str, tmp_path: Path, ops: list[tuple[str, dict[str, Any]]]
) -> None:
    with fresh(db_url, tmp_path) as store:
        ids = run(store, ops)
        incremental = store.projector.digests()
        now = answers(store, ids)
        assert rebuild(store).digests == incremental == store.projector.digests()
        assert answers(store, ids) == now
