"""Rendered embed pages kept by ETag: a reader after the first gets the same bytes without the
page's queries; a new event is shown at once; the memory they take is bounded."""

from __future__ import annotations

from api.embed.caching import PageCache
from projections.service import Store
from tests.conftest import statements
from tests.embed_support import LE_MONDE, article_ids, seeded

URL = "/embed/timeline?country=UKR&lang=fr"


def test_a_second_reader_gets_the_same_bytes_without_the_page_s_queries(store: Store) -> None:
    client = seeded(store)
    with statements(store) as first:
        miss = client.get(URL)
    with statements(store) as second:
        hit = client.get(URL)
    assert miss.status_code == hit.status_code == 200
    assert hit.content == miss.content
    assert hit.headers["etag"] == miss.headers["etag"]
    assert hit.headers["content-security-policy"] == miss.headers["content-security-policy"]
    # The page reads timelines, decisions, names, links, stories and figures, and the
    # projections' positions once for its ETag and once after its reads (to keep it only if
    # nothing was projected meanwhile); a hit only reads the position its ETag names.
    assert len(first) > 5
    assert sum("tracking" in s for s in first) == 2, first
    assert len(second) == 1 and "tracking" in second[0], second
    with statements(store) as third:
        unchanged = client.get(URL, headers={"If-None-Match": hit.headers["etag"]})
    assert unchanged.status_code == 304
    assert len(third) == 1 and "tracking" in third[0], third


def test_a_new_decision_is_shown_to_the_next_reader(store: Store) -> None:
    client = seeded(store)
    before = client.get(URL)
    store.execute(
        "recordDecision",
        {
            "id": "ukr-2024-12-01-new",
            "actor": "UKR",
            "action": "ADOPT_POLICY",
            "decidedOn": "2024-12-01",
            "headline": "Ukraine adopts a new policy",
            "sources": [LE_MONDE],
        },
    )
    after = client.get(URL)
    assert after.headers["etag"] != before.headers["etag"]
    assert "ukr-2024-12-01-new" in article_ids(after.text)
    assert "ukr-2024-12-01-new" not in article_ids(before.text)


def test_a_pinned_view_is_kept_too_and_each_language_apart(store: Store) -> None:
    client = seeded(store)
    position = store.head()
    pinned = f"/embed/timeline?country=UKR&asOf={position}"
    first, again = client.get(pinned), client.get(pinned)
    assert first.content == again.content
    english, french = client.get("/embed/timeline?country=UKR"), client.get(URL)
    assert english.content != french.content
    assert '<html lang="fr"' in french.text and '<html lang="en"' in english.text


def test_the_cache_is_bounded_by_pages_and_by_bytes() -> None:
    cache = PageCache(max_pages=3, max_bytes=100)
    for i in range(5):
        cache.put(f'"{i}"', b"x" * 10)
    assert len(cache) == 3 and cache.get('"0"') is None and cache.get('"4"') == b"x" * 10
    cache.get('"2"')  # read again: kept longest
    cache.put('"big"', b"y" * 90)  # 120 bytes: the two least recently used go
    assert cache.size == 100 and cache.get('"3"') is None and cache.get('"4"') is None
    assert cache.get('"2"') == b"x" * 10 and cache.get('"big"') == b"y" * 90
    cache.put('"huge"', b"z" * 101)  # larger than the whole budget: never kept
    assert cache.get('"huge"') is None and cache.size == 100
