"""An embed page's reads (one statement on PostgreSQL, the driver's queries on SQLite) answer
what the read model's methods answer."""

from __future__ import annotations

from api.embed.timeline import RELATIONS
from projections.readmodels.pagereads import PageReads, _one_by_one, page_reads
from projections.service import Store
from tests.test_embed_snapshots import CHANGED, _stored


def _reads(store: Store, country: str, as_of: int | None, one_by_one: bool) -> PageReads:
    page = store.read.timeline("country", country, first=100, as_of=as_of, include_retracted=True)
    ids = [e["decisionId"] for e in page.entries]
    names = {
        "weapon": sorted({w["system"] for e in page.entries for w in e["weapons"] if w["system"]}),
        "treaty": sorted({e["treaty"] for e in page.entries if e["treaty"]}),
    }
    with store.read.pinned() as read:
        if one_by_one:
            return _one_by_one(read, ids, RELATIONS, names, country, 50, as_of)
        return page_reads(read, ids, RELATIONS, names, scope=country, figures=50, as_of=as_of)


def test_the_page_reads_are_those_of_the_read_models_methods(
    store: Store,
) -> None:
    _stored(store)
    changed_at = min(s["position"] for steps in store.read.history(CHANGED).values() for s in steps)
    seen = {"links": 0, "flags": 0, "history": 0, "statements": 0, "figures": 0}
    for country in ("UKR", "USA", "DEU", "NZL", "CHL"):
        for as_of in (None, changed_at, changed_at + 3):
            found = _reads(store, country, as_of, one_by_one=False)
            assert found == _reads(store, country, as_of, one_by_one=True), (country, as_of)
            seen["links"] += sum(len(v) for side in found.linked.values() for v in side.values())
            seen["flags"] += len(found.flags)
            seen["history"] += sum(len(steps) for steps in found.history.values())
            seen["statements"] += len(found.statements)
            seen["figures"] += len(found.figures)
    assert all(seen.values()), seen  # every part was compared with something in it
