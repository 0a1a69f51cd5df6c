"""Resource bounds: a per-key write rate limit, a subscription flood, and a slow subscriber."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect

from api.http.app import create_app
from api.http.live import MAX_SUBSCRIPTIONS_ENV, PER_ADDRESS_ENV, QUEUE_SIZE, TOO_MANY, Live
from api.http.ratelimit import RATE_ENV, Rate, WriteRateLimit, parse_rate
from api.importing.commands import import_lines
from projections.service import Store
from tests.graphql_support import running, serving
from tests.reliability.support import editor_key, log_rows

pytestmark = pytest.mark.reliability

RECORD_WEAPON = (
    "mutation W($input: RecordWeaponInput!) { recordWeapon(input: $input) { __typename } }"
)


def _weapon(client: httpx.Client, key: str, ident: str) -> httpx.Response:
    variables = {"input": {"id": ident, "name": ident, "category": "anti-personnel-mine"}}
    return client.post(
        "/graphql",
        json={"query": RECORD_WEAPON, "variables": variables},
        headers={"Authorization": f"Bearer {key}"},
    )


def test_writes_over_a_keys_rate_get_429_with_retry_after_and_rate_limited_storing_nothing(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(RATE_ENV, "3/minute")
    busy, other = editor_key(store), editor_key(store)
    with serving(create_app(store)) as client:
        for i in range(3):
            ok = _weapon(client, busy, f"w-{i}")
            assert ok.status_code == 200 and "errors" not in ok.json(), ok.text
        stored = len(log_rows(store))
        refused = _weapon(client, busy, "w-refused")
        assert refused.status_code == 429
        # One token comes back every 20 s at 3/minute.
        assert 1 <= int(refused.headers["Retry-After"]) <= 20
        body: dict[str, Any] = refused.json()
        assert body["data"] is None
        [error] = body["errors"]
        assert error["extensions"]["code"] == "RATE_LIMITED"
        assert "3/minute" in error["message"]
        assert len(log_rows(store)) == stored
        # Another key has a bucket of its own, and reads are never limited.
        assert _weapon(client, other, "w-other").status_code == 200
        read = client.post("/graphql", json={"query": "{ integrity { ok } }"})
        assert read.status_code == 200 and read.json()["data"]["integrity"]["ok"] is True
    assert store.read.records("weapon", ids=["w-refused"]) == []


def test_a_bucket_refills_at_the_configured_rate() -> None:
    now = [0.0]
    limit = WriteRateLimit(Rate(2, 60.0), clock=lambda: now[0])
    assert [limit.take("k"), limit.take("k")] == [0.0, 0.0]
    assert limit.take("k") == pytest.approx(30.0)
    now[0] = 29.0
    assert limit.take("k") == pytest.approx(1.0)
    now[0] = 30.0
    assert limit.take("k") == 0.0
    now[0] = 1000.0  # an idle key saves up no more than one burst
    assert [limit.take("k") for _ in range(3)][2] > 0.0


def test_the_rate_setting_is_parsed_or_refused_naming_the_variable() -> None:
    assert parse_rate("60/minute") == Rate(60, 60.0)
    assert parse_rate("5/second") == Rate(5, 1.0)
    assert parse_rate("off") is None
    assert WriteRateLimit(None).take("k") == 0.0
    for bad in ("60", "-1/minute", "ten/hour", "60/fortnight"):
        with pytest.raises(ValueError, match=RATE_ENV):
            parse_rate(bad)


# The flood: more sockets than the cap, so both delivery and a clean refusal are seen.
SOCKETS, CAP = 1000, 950
MEMORY_BOUND_MB = 200
SUBSCRIBE = "subscription { timelineUpdated { decisionId } }"
WAIT = 60.0  # generous: only arrival is asserted, never speed
COMPRESSION: str | None = None


def _rss_mb() -> float:
    """Resident memory of this process (the server runs in one of its threads)."""
    with open("/proc/self/status", encoding="ascii") as status:
        line = next(x for x in status if x.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


def _decision(ident: str, country: str = "UKR") -> dict[str, Any]:
    return {
        "id": ident,
        "actor": country,
        "action": "ADOPT_POLICY",
        "decidedOn": "2024-05-01",
        "headline": f"decision {ident}",
        "weapons": [{"category": "cluster-munition"}],
        "sources": [{"publisher": "Test Gazette", "quote": "it happened"}],
    }


async def _subscribe(url: str, number: int) -> ClientConnection:
    # Without per-message deflate: its zlib state would be counted twice (client and server
    # share this process); docs/reliability.md gives the figure with it too.
    ws = await connect(
        url,
        subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
        open_timeout=WAIT,
        compression=COMPRESSION,
    )
    await ws.send(json.dumps({"type": "connection_init"}))
    assert json.loads(await asyncio.wait_for(ws.recv(), WAIT)) == {"type": "connection_ack"}
    message = {"id": str(number), "type": "subscribe", "payload": {"query": SUBSCRIBE}}
    await ws.send(json.dumps(message))
    return ws


async def _flood(base: str, live: Live, store: Store) -> tuple[list[dict[str, Any]], float]:
    url = base.replace("http://", "ws://") + "/graphql"
    before = _rss_mb()
    sockets: list[ClientConnection] = []
    for start in range(0, SOCKETS, 100):  # in waves, so the listen backlog never overflows
        wave = range(start, min(start + 100, SOCKETS))
        sockets += await asyncio.gather(*(_subscribe(url, n) for n in wave))
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT
    while len(live.subscribers) < CAP and loop.time() < deadline:
        await asyncio.sleep(0.05)
    assert len(live.subscribers) == CAP
    await asyncio.to_thread(store.execute, "recordDecision", _decision("flood-1"))
    # Each socket's first message: the new entry, or the refusal of a subscription over the cap.
    firsts = await asyncio.gather(*(asyncio.wait_for(ws.recv(), WAIT) for ws in sockets))
    grown = _rss_mb() - before
    await asyncio.gather(*(ws.close() for ws in sockets))
    return [json.loads(m) for m in firsts], grown


def test_a_flood_of_subscriptions_is_served_up_to_the_cap_and_refused_cleanly_beyond_it(
    store: Store, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(MAX_SUBSCRIPTIONS_ENV, str(CAP))
    monkeypatch.setenv(PER_ADDRESS_ENV, str(SOCKETS))  # every socket comes from 127.0.0.1
    app = create_app(store)
    live: Live = app.state.live
    with running(app) as base:
        messages, grown = asyncio.run(_flood(base, live, store))
    assert all(m["type"] in ("next", "error") for m in messages)
    # graphql-transport-ws carries an error of the running subscription in a `next` message.
    refused = [m for m in messages if "errors" in m["payload"] or m["type"] == "error"]
    delivered = [m for m in messages if m not in refused]
    assert len(delivered) == CAP and len(refused) == SOCKETS - CAP
    assert all(
        m["payload"]["data"]["timelineUpdated"]["decisionId"] == "flood-1" for m in delivered
    )
    for message in refused:
        [error] = message["payload"]["errors"]
        assert error["extensions"]["code"] == TOO_MANY
        assert MAX_SUBSCRIPTIONS_ENV in error["message"]
    assert grown < MEMORY_BOUND_MB
    with capsys.disabled():  # the figure docs/reliability.md records
        print(f"\n[{store.dialect}] {SOCKETS} sockets, {CAP} subscribed: RSS +{grown:.1f} MB")


async def _slow_and_fast(store: Store, count: int) -> tuple[int, set[str]]:
    live = Live(store)
    slow = live.entries()
    stuck = asyncio.create_task(anext(slow))  # reads one entry, then never again
    fast = live.entries()
    received: set[str] = set()

    async def read_all() -> None:
        async for entry in fast:
            received.add(entry["decisionId"])
            if len(received) == count:
                return

    reader = asyncio.create_task(read_all())
    while len(live.subscribers) < 2:
        await asyncio.sleep(0.01)
    lines = [
        json.dumps({"op": "recordDecision", "input": _decision(f"slow-{i}")}) for i in range(count)
    ]
    await asyncio.to_thread(import_lines, store, lines)
    await asyncio.wait_for(reader, WAIT)
    await stuck
    longest = max(q.qsize() for q in live.subscribers)
    await slow.aclose()
    await fast.aclose()
    return longest, received


def test_a_subscriber_that_never_reads_holds_at_most_its_queue_while_others_get_everything(
    store: Store,
) -> None:
    count = QUEUE_SIZE + 200
    longest, received = asyncio.run(_slow_and_fast(store, count))
    # The reader that stopped holds a full queue and no more: the rest was dropped for it only.
    assert longest == QUEUE_SIZE
    assert received == {f"slow-{i}" for i in range(count)}
