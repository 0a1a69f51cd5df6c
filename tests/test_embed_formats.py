"""oEmbed 1.0, TimelineJS3 JSON and HTTP caching of the embeds."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

from api.importing.commands import import_lines
from projections.service import Store
from tests.conftest import SOURCE, line
from tests.embed_support import BASE, UKR_IDS, Client, seeded

EMBED = f"{BASE}/embed/timeline?country=UKR"


class _Iframe(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.attrs: list[dict[str, Any]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "iframe":
            self.attrs.append(dict(attrs))


def test_oembed_answers_a_rich_iframe_within_the_maximum_size(store: Store) -> None:
    response = seeded(store).get(
        "/oembed", params={"url": EMBED, "maxwidth": "400", "maxheight": "300", "format": "json"}
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    # oEmbed 1.0 section 2.3.4: version, type; rich adds html, width and height.
    assert body["version"] == "1.0" and body["type"] == "rich"
    assert (body["width"], body["height"]) == (400, 300)
    assert isinstance(body["cache_age"], int) and body["provider_name"]
    assert body["title"] == "Decisions involving Ukraine"
    parser = _Iframe()
    parser.feed(body["html"])
    assert len(parser.attrs) == 1
    assert parser.attrs[0]["src"] == EMBED
    assert (parser.attrs[0]["width"], parser.attrs[0]["height"]) == ("400", "300")


def test_oembed_without_limits_uses_the_default_size(store: Store) -> None:
    body = seeded(store).get("/oembed", params={"url": EMBED}).json()
    assert (body["width"], body["height"]) == (640, 600)


def test_oembed_refuses_foreign_urls_and_formats_other_than_json(store: Store) -> None:
    client = seeded(store)
    for url in [
        "https://elsewhere.example/embed/timeline?country=UKR",
        f"{BASE}/graphql",
        f"{BASE}/embed/timeline?country=ZZZ",
    ]:
        assert client.get("/oembed", params={"url": url}).status_code == 404, url
    assert client.get("/oembed", params={"url": EMBED, "format": "xml"}).status_code == 501
    bad = client.get("/oembed", params={"url": EMBED, "maxwidth": "wide"})
    assert bad.status_code == 400 and "maxwidth" in bad.json()["error"]


def test_the_embed_page_carries_the_oembed_discovery_link(store: Store) -> None:
    client = seeded(store)
    html = client.get("/embed/timeline?country=UKR").text
    found = re.search(r'<link rel="alternate" type="application/json\+oembed" href="([^"]+)"', html)
    assert found is not None
    href = found.group(1).replace("&amp;", "&")
    assert client.get(href.removeprefix(BASE)).json()["type"] == "rich"


def test_timelinejs_json_has_one_event_per_decision_with_known_date_parts(store: Store) -> None:
    client = seeded(store)
    import_lines(
        store,
        [
            line(
                "recordDecision",
                id="ukr-2023-08",
                actor="UKR",
                action="DELIVER",
                decidedOn="2023-08",
                headline="Month only",
                sources=SOURCE,
            ),
            line(
                "recordDecision",
                id="ukr-2022-06-23",
                actor="UKR",
                action="DELIVER",
                decidedOn="2022-06-23?",
                headline="Uncertain day",
                sources=SOURCE,
            ),
        ],
    )
    doc = client.get("/timelinejs.json?country=UKR").json()
    assert doc["title"]["text"]["headline"] == "Decisions involving Ukraine"
    events = {e["unique_id"]: e for e in doc["events"]}
    assert [e["unique_id"] for e in doc["events"]] == [
        *UKR_IDS[:2],
        "ukr-2022-06-23",
        "ukr-2023-08",
        *UKR_IDS[2:],
    ]
    assert events[UKR_IDS[0]]["start_date"] == {
        "year": 1999,
        "month": 2,
        "day": 24,
        "display_date": "24 February 1999",
    }
    assert events["ukr-2023-08"]["start_date"] == {
        "year": 2023,
        "month": 8,
        "display_date": "August 2023",
    }
    assert events["ukr-2022-06-23"]["start_date"]["display_date"] == "23 June 2022?"
    assert events[UKR_IDS[3]]["group"] == "recipient"
    assert (
        events[UKR_IDS[3]]["text"]["headline"] == "Biden authorizes antipersonnel mines for Ukraine"
    )
    assert 'rel="noopener noreferrer nofollow"' in events[UKR_IDS[3]]["text"]["text"]
    for event in doc["events"]:
        # The TimelineJS3 slide shape: numeric date parts, text strings, unique ids.
        assert all(isinstance(event["start_date"][k], int) for k in ("year",))
        assert set(event["text"]) == {"headline", "text"}
    assert len(events) == len(doc["events"])


def test_timelinejs_groups_a_weapon_timeline_by_category(store: Store) -> None:
    doc = seeded(store).get("/timelinejs.json?system=atacms").json()
    assert [e["group"] for e in doc["events"]] == ["short-range ballistic missiles"]


def test_timelinejs_escapes_hostile_headlines(store: Store) -> None:
    import_lines(
        store,
        [
            line(
                "recordDecision",
                id="x",
                actor="FRA",
                action="DELIVER",
                decidedOn="2020",
                headline="<script>alert(1)</script>",
                sources=SOURCE,
            )
        ],
    )
    event = Client(store).get("/timelinejs.json?country=FRA").json()["events"][0]
    assert event["text"]["headline"] == "&lt;script&gt;alert(1)&lt;/script&gt;"


def test_a_revalidation_with_the_etag_gets_304_until_the_log_moves(store: Store) -> None:
    client = seeded(store)
    for url in ["/embed/timeline?country=UKR", "/timelinejs.json?country=UKR"]:
        first = client.get(url)
        tag = first.headers["etag"]
        assert first.headers["cache-control"] == "public, max-age=60"
        again = client.get(url, headers={"If-None-Match": tag})
        assert (again.status_code, again.content) == (304, b"")
        assert again.headers["etag"] == tag
        other = client.get(url + "&lang=fr", headers={"If-None-Match": tag})
        assert other.status_code == 200
    tag = client.get("/embed/timeline?country=UKR").headers["etag"]
    import_lines(
        store,
        [
            line(
                "recordDecision",
                id="n",
                actor="FRA",
                action="DELIVER",
                decidedOn="2020",
                headline="news",
                sources=SOURCE,
            )
        ],
    )
    moved = client.get("/embed/timeline?country=UKR", headers={"If-None-Match": tag})
    assert moved.status_code == 200


def test_a_view_pinned_to_a_position_is_cached_for_a_day(store: Store) -> None:
    response = seeded(store).get("/embed/timeline?country=UKR&asOf=10")
    assert response.headers["cache-control"] == "public, max-age=86400"
