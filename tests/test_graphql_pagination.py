"""Keyset pagination over HTTP while another client inserts: no duplicates and no gaps."""

from __future__ import annotations

import itertools
import threading
from typing import Any

import httpx

from api.http.app import create_app
from api.http.keys import KeyRing
from projections.service import Store
from tests.graphql_support import RECORD_DECISION, SOURCES, gql, running

PAGE = """
query Page($after: String) {
  countryTimeline(country: "UKR", first: 4, after: $after) {
    edges { cursor node { decisionId position date { earliest } } }
    pageInfo { hasNextPage endCursor }
  }
}"""
# Day, month and year precision; some days shared by several decisions (ordered by position).
DATES = [f"{2001 + i // 2}-0{1 + i % 3}-1{i % 2}" for i in range(16)]
DATES += ["2004", "2007-05", "2004-01-10", "2004-01-10"]
# Inserted while paging: before the first page, inside pages already read or still to come
# (also on a day existing entries have), and after the last page.
INSERTS = ["1990-01-01", "2004-01-10", "2003", "2031-12-31", "2008-02-11", "1999-12"]


def decision(slug: str, date: str) -> dict[str, Any]:
    """A pledge by Ukraine on `date`."""
    return {"id": slug, "actor": "UKR", "action": "PLEDGE", "decidedOn": date,
            "headline": f"Ukraine pledges ({slug})", "sources": SOURCES}  # fmt: skip


def test_paging_a_country_timeline_while_decisions_are_inserted_skips_and_repeats_nothing(
    store: Store,
) -> None:
    for i, date in enumerate(DATES):
        store.execute("recordDecision", decision(f"ukr-seed-{i:02d}", date))
    existing = {f"ukr-seed-{i:02d}" for i in range(len(DATES))}
    _, key = KeyRing(store.engine).create("editor")
    inserted: list[str] = []
    written = threading.Condition()
    done = threading.Event()

    def insert_while_paging(base: str) -> None:
        """Before, inside and after the pages, until the reader has finished."""
        with httpx.Client(base_url=base, timeout=10) as writer:
            for n in itertools.count():
                if done.is_set():
                    return
                slug = f"ukr-new-{n:03d}"
                body = gql(writer, RECORD_DECISION, {"input": decision(slug, INSERTS[n % 6])}, key)
                assert body["data"]["recordDecision"]["__typename"] == "RecordDecisionSuccess"
                with written:
                    inserted.append(slug)
                    written.notify_all()

    def next_write() -> None:
        """Wait until the writer has stored one more decision."""
        with written:
            count = len(inserted)
            assert written.wait_for(lambda: len(inserted) > count, timeout=30)

    with running(create_app(store)) as base, httpx.Client(base_url=base, timeout=10) as reader:
        thread = threading.Thread(target=insert_while_paging, args=(base,), daemon=True)
        thread.start()
        seen: list[dict[str, Any]] = []
        after: str | None = None
        while True:
            next_write()  # at least one write lands between any two pages
            page = gql(reader, PAGE, {"after": after})["data"]["countryTimeline"]
            seen += [e["node"] for e in page["edges"]]
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]
        done.set()
        thread.join(30)

    ids = [node["decisionId"] for node in seen]
    assert len(ids) == len(set(ids)), "an entry was returned twice"
    assert existing <= set(ids), f"entries skipped: {sorted(existing - set(ids))}"
    keys = [(node["date"]["earliest"], node["position"]) for node in seen]
    assert keys == sorted(keys), "pages are not in timeline order"
    assert len(inserted) >= len(DATES) // 4  # at least one write before every page
    late = {slug for slug, date in zip(inserted, itertools.cycle(INSERTS)) if date > "2030"}
    assert late & set(ids), "a decision dated after the pages, inserted while paging, is shown"
