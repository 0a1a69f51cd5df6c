"""Resource bounds: a per-key write rate limit, a subscription flood, and a slow subscriber."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from api.ratelimit import RATE_ENV, Rate, WriteRateLimit, parse_rate
from api.server import create_app
from projections.service import Store
from tests.graphql_support import serving
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
