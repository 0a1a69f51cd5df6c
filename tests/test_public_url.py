"""Absolute URLs come from the configured public URL or the bind address, never from Host."""

from __future__ import annotations

import re
from html import unescape

import httpx
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from api.embed import timelinejs
from api.http.app import create_app
from api.http.public_url import parse_public_url
from api.importing.commands import import_lines
from projections.service import Store
from tests.conftest import seed_lines
from tests.graphql_support import running

PUBLIC = "https://timeline.example.org"
FORGED = {"Host": "attacker.example"}
EMBED = "/embed/timeline?country=UKR"


def _page_urls(html: str) -> list[str]:
    """Every absolute URL of an embed page: canonical, oEmbed discovery and cite links."""
    canonical = re.search(r'<link rel="canonical" href="([^"]+)"', html)
    discovery = re.search(r'type="application/json\+oembed" href="([^"]+)"', html)
    cite = re.search(r'<p class="cite"><a href="([^"]+)"', html)
    found = [m.group(1) for m in (canonical, discovery, cite) if m is not None]
    assert len(found) == 3, html
    return [unescape(url) for url in found]


def test_with_a_public_url_every_absolute_url_uses_it_and_another_host_gets_400(
    store: Store,
) -> None:
    import_lines(store, seed_lines())
    app = create_app(store, public_url=parse_public_url(PUBLIC))
    own = {"Host": "timeline.example.org"}
    with running(app) as base, httpx.Client(base_url=base) as client:
        page = client.get(EMBED, headers=own)
        oembed = client.get("/oembed", params={"url": f"{PUBLIC}{EMBED}"}, headers=own)
        redirect = client.get("/timelinejs.json/?country=UKR", headers=own)
        forged = [
            client.get(EMBED, headers=FORGED),
            client.get("/oembed", params={"url": f"{PUBLIC}{EMBED}"}, headers=FORGED),
            client.get("/timelinejs.json?country=UKR", headers=FORGED),
            client.post("/graphql", json={"query": "{ __typename }"}, headers=FORGED),
            client.get("/timelinejs.json/?country=UKR", headers=FORGED),
        ]
        health = client.get("/healthz", headers=FORGED)
    assert page.status_code == 200
    for url in _page_urls(page.text):
        assert url.startswith(f"{PUBLIC}/"), url
    body = oembed.json()
    assert body["provider_url"] == f"{PUBLIC}/"
    assert f'src="{PUBLIC}{EMBED}"' in body["html"]
    assert redirect.status_code == 307
    assert redirect.headers["location"] == f"{PUBLIC}/timelinejs.json?country=UKR"
    for refused in forged:
        assert refused.status_code == 400, refused.text
        assert "attacker.example" not in refused.text
        assert f"answers only as {PUBLIC}" in refused.text
    assert health.status_code == 200 and health.json()["ok"] is True  # probes call by address


def test_the_public_host_is_matched_without_regard_to_case_or_an_explicit_default_port(
    store: Store,
) -> None:
    app = create_app(store, public_url=parse_public_url(PUBLIC))
    with running(app) as base, httpx.Client(base_url=base) as client:
        answers = [
            client.get("/timelinejs.json?country=UKR", headers={"Host": host}).status_code
            for host in ("Timeline.Example.org", "timeline.example.org:443")
        ]
        wrong_port = client.get(
            "/timelinejs.json?country=UKR", headers={"Host": "timeline.example.org:80"}
        )
        bad_port = client.get("/timelinejs.json?country=UKR", headers={"Host": "x:99999999"})
    assert answers == [200, 200]
    assert wrong_port.status_code == bad_port.status_code == 400


def test_without_a_public_url_absolute_urls_use_the_bind_address_not_the_host_header(
    store: Store,
) -> None:
    import_lines(store, seed_lines())
    with running(create_app(store)) as base, httpx.Client(base_url=base) as client:
        page = client.get(EMBED, headers=FORGED)
        oembed = client.get("/oembed", params={"url": f"{base}{EMBED}"}, headers=FORGED)
        spoofed = client.get("/oembed", params={"url": f"http://attacker.example{EMBED}"})
        redirect = client.get("/timelinejs.json/?country=UKR", headers=FORGED)
    assert page.status_code == 200
    for url in _page_urls(page.text):
        assert url.startswith(f"{base}/"), url
    assert oembed.json()["provider_url"] == f"{base}/"
    assert spoofed.status_code == 404  # not an embed URL of this server
    assert redirect.headers["location"] == f"{base}/timelinejs.json?country=UKR"


def test_a_websocket_naming_another_host_is_refused(store: Store) -> None:
    app = create_app(store, public_url=parse_public_url(PUBLIC))
    with running(app) as base:
        url = base.replace("http://", "ws://") + "/graphql"
        with pytest.raises(InvalidStatus):
            connect(url, subprotocols=["graphql-transport-ws"], additional_headers=FORGED)  # type: ignore[list-item]


@pytest.mark.parametrize(
    "text",
    ["timeline.example.org", "ftp://timeline.example.org", f"{PUBLIC}/news", f"{PUBLIC}?a=1"],
)
def test_a_public_url_other_than_scheme_host_and_port_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="public URL"):
        parse_public_url(text)


def test_the_next_link_of_a_cut_timelinejs_document_uses_the_public_url(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    import_lines(store, seed_lines())
    monkeypatch.setattr(timelinejs, "MAX_EVENTS", 1)  # cut after the first page
    app = create_app(store, public_url=parse_public_url(PUBLIC))
    with running(app) as base, httpx.Client(base_url=base) as client:
        doc = client.get(
            "/timelinejs.json?country=UKR&first=1", headers={"Host": "timeline.example.org"}
        ).json()
    assert doc["next"].startswith(f"{PUBLIC}/timelinejs.json?country=UKR&first=1&after=")
