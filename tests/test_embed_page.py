"""The embed page: semantic, escaped, localized, paged HTML with a strict policy."""

from __future__ import annotations

import re

from api.importing.commands import import_lines
from projections.service import Store
from tests.conftest import SOURCE, line
from tests.embed_support import UKR_IDS, Client, article_ids, seeded


def test_the_ukraine_embed_lists_the_four_seed_decisions_in_order_with_dates(store: Store) -> None:
    response = seeded(store).get("/embed/timeline?country=UKR")
    assert response.status_code == 200
    html = response.text
    assert article_ids(html) == UKR_IDS
    assert re.findall(r'<p class="meta"><time datetime="([^"]+)">', html) == [
        "1999-02-24",
        "2005-12-27",
        "2024-11-17",
        "2024-11-20",
    ]
    assert '<ol class="timeline">' in html and "United States → Ukraine" in html
    assert "strikes inside Russia" in html and "MGM-140 ATACMS" in html
    assert "Use j and k, or the arrow keys, to move between decisions." in html


def test_sources_are_links_that_pass_no_credit_and_open_elsewhere(store: Store) -> None:
    html = seeded(store).get("/embed/timeline?country=UKR").text
    links = re.findall(r'<a href="https://[^"]+"([^>]*)>', html)
    assert links and all('rel="noopener noreferrer nofollow"' in attrs for attrs in links)


def test_a_decision_links_to_the_policy_it_reverses(store: Store) -> None:
    common = {"actor": "FRA", "sources": SOURCE}
    policy = line(
        "recordDecision",
        id="fra-2020-policy",
        action="ADOPT_POLICY",
        decidedOn="2020-03-02",
        headline="A policy",
        **common,
    )
    reversal = line(
        "recordDecision",
        id="fra-2024-reversal",
        action="PLEDGE",
        recipient="UKR",
        decidedOn="2024-05",
        headline="A pledge",
        reverses="fra-2020-policy",
        **common,
    )
    client = seeded(store)
    import_lines(store, [policy, reversal])
    html = client.get("/embed/timeline?country=UKR").text
    assert 'Reverses: <a href="?country=FRA&amp;from=2020-03-02#fra-2020-policy">' in html
    fra = Client(store).get("/embed/timeline?country=FRA").text
    assert 'Reversed by: <a href="#fra-2024-reversal">' in fra


def test_the_page_has_a_strict_policy_and_asks_for_nothing_elsewhere(store: Store) -> None:
    response = seeded(store).get("/embed/timeline?country=UKR")
    policy = response.headers["content-security-policy"]
    assert policy.startswith("default-src 'none'; style-src 'sha256-")
    assert "script-src 'sha256-" in policy and "frame-ancestors *" in policy
    assert "unsafe" not in policy
    html = response.text
    assert not re.search(r"<(img|link rel=\"stylesheet\"|script src|iframe)", html)
    assert not re.search(r'\s(src|srcset)="', html)


def test_frame_ancestors_come_from_the_environment(store: Store, monkeypatch) -> None:
    monkeypatch.setenv("POLICY_TIMELINE_FRAME_ANCESTORS", "https://news.example")
    response = seeded(store).get("/embed/timeline?country=UKR")
    assert "frame-ancestors https://news.example" in response.headers["content-security-policy"]


def test_a_hostile_headline_and_source_are_shown_as_text(store: Store) -> None:
    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    url = 'https://evil.example/"><script>alert(2)</script>'
    sources = [{"publisher": "<b>Evil</b>", "url": url, "title": hostile}]
    import_lines(
        store,
        [
            line(
                "recordDecision",
                id="fra-evil",
                actor="FRA",
                action="DELIVER",
                decidedOn="2024-01-02",
                headline=hostile,
                scope=hostile,
                sources=sources,
            )
        ],
    )
    html = Client(store).get("/embed/timeline?country=FRA").text
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert "<script>alert(2)" not in html and "&lt;b&gt;Evil&lt;/b&gt;" in html
    assert 'href="https://evil.example/&#34;&gt;&lt;script&gt;' in html


def test_fuzzy_dates_are_shown_honestly_in_three_languages(store: Store) -> None:
    dates = {"a": "2024-11", "b": "2022-06-23~", "c": "2024-11-17?", "d": "2023"}
    import_lines(
        store,
        [
            line(
                "recordDecision",
                id=i,
                actor="FRA",
                action="DELIVER",
                decidedOn=d,
                headline=i,
                sources=SOURCE,
            )
            for i, d in dates.items()
        ],
    )
    client = Client(store)
    shown = {
        lang: re.findall(
            r"<p class=\"meta\"><time datetime=\"([^\"]+)\">([^<]+)</time>",
            client.get(f"/embed/timeline?country=FRA&lang={lang}").text,
        )
        for lang in ("en", "fr", "uk")
    }
    assert shown["en"] == [
        ("2022-06-23", "c. 23 June 2022"),
        ("2023", "2023"),
        ("2024-11", "November 2024"),
        ("2024-11-17", "17 November 2024?"),
    ]
    assert shown["fr"][0][1] == "vers le 23 juin 2022"
    assert shown["uk"][2][1].lower().startswith("листопад")
    assert '<html lang="uk"' in client.get("/embed/timeline?country=FRA&lang=uk").text


def test_a_corrected_decision_says_so(store: Store) -> None:
    client = seeded(store)
    import_lines(
        store,
        [
            line(
                "correctDecision",
                id="usa-2024-11-17-atacms-strikes-russia",
                changes={"scope": "strikes in the Kursk region"},
                reason="narrower",
                sources=SOURCE,
            )
        ],
    )
    html = client.get("/embed/timeline?country=UKR").text
    assert '<span class="status">Corrected</span>' in html
    assert "strikes in the Kursk region" in html


def test_a_view_pinned_to_a_position_shows_what_the_record_said_then(store: Store) -> None:
    client = seeded(store)
    html = client.get("/embed/timeline?country=UKR").text
    cite = re.search(r'<a href="([^"]+)" target="_blank" rel="noopener">Cite this view', html)
    assert cite is not None
    assert cite.group(1) == "http://news.test/embed/timeline?country=UKR&amp;asOf=22"
    import_lines(
        store,
        [
            line(
                "recordDecision",
                id="ukr-2025-late",
                actor="UKR",
                action="DELIVER",
                decidedOn="2025-01-01",
                headline="later news",
                sources=SOURCE,
            )
        ],
    )
    pinned = client.get("/embed/timeline?country=UKR&asOf=22").text
    assert article_ids(pinned) == UKR_IDS
    assert article_ids(client.get("/embed/timeline?country=UKR").text)[-1] == "ukr-2025-late"


def test_a_long_timeline_is_paged_by_100_with_earlier_and_later_links(store: Store) -> None:
    import_lines(
        store,
        [
            line(
                "recordDecision",
                id=f"d{i:03d}",
                actor="FRA",
                action="DELIVER",
                decidedOn=f"{2000 + i // 12}-{i % 12 + 1:02d}-01",
                headline=f"n{i}",
                sources=SOURCE,
            )
            for i in range(250)
        ],
    )
    client = Client(store)
    first = client.get("/embed/timeline?country=FRA&theme=dark").text
    assert article_ids(first) == [f"d{i:03d}" for i in range(100)]
    assert 'rel="prev"' not in first
    later = re.search(r'<a rel="next" href="\?([^"]+)"', first)
    assert later is not None and "theme=dark" in later.group(1)
    second = client.get("/embed/timeline?" + later.group(1).replace("&amp;", "&")).text
    assert article_ids(second) == [f"d{i:03d}" for i in range(100, 200)]
    earlier = re.search(r'<a rel="prev" href="\?([^"]+)"', second)
    assert earlier is not None
    back = client.get("/embed/timeline?" + earlier.group(1).replace("&amp;", "&")).text
    assert article_ids(back) == [f"d{i:03d}" for i in range(100)]


def test_wrong_parameters_get_a_400_naming_the_field(store: Store) -> None:
    client = seeded(store)
    cases = {
        "/embed/timeline": "exactly one of country, system or category",
        "/embed/timeline?country=ZZZ": "country: 'ZZZ'",
        "/embed/timeline?country=UKR&theme=pink": "theme: 'pink'",
        "/embed/timeline?country=UKR&lang=de": "lang: 'de'",
        "/embed/timeline?country=UKR&from=2024-13": "from:",
        "/embed/timeline?country=UKR&asOf=abc": "asOf:",
        "/embed/timeline?country=UKR&asOf=999": "asOf: position 999 is past the end",
        "/embed/timeline?country=UKR&after=forged": "after:",
        "/embed/timeline?country=UKR&first=101": "first:",
    }
    for url, message in cases.items():
        response = client.get(url)
        assert (response.status_code, message in response.text) == (400, True), url
