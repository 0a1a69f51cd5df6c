"""Auth: every mutation refuses missing, read-only, revoked and foreign keys, leaking no key."""

from __future__ import annotations

import hmac
import logging
from pathlib import Path
from typing import Any

import pytest

from api.http import keys as keys_module
from api.http.app import create_app
from api.http.keys import KeyRing
from projections.service import Store
from tests.conftest import migrated
from tests.graphql_support import DECISION, SOURCES, TREATY, serving
from tests.reliability.support import log_rows

pytestmark = pytest.mark.reliability

MUTATIONS: dict[str, dict[str, Any]] = {
    "recordTreaty": {**TREATY, "id": "auth-treaty"},
    "recordWeapon": {"id": "auth-weapon", "name": "Auth", "category": "anti-personnel-mine"},
    "recordDecision": {**DECISION, "id": "auth-decision"},
    "correctDecision": {
        "id": DECISION["id"],
        "changes": {"headline": "changed"},
        "reason": "auth",
        "sources": SOURCES,
    },
    "retractDecision": {"id": DECISION["id"], "reason": "auth", "sources": SOURCES},
    "recordStatement": {
        "id": "auth-statement",
        "by": {"name": "Someone", "kind": "OFFICIAL"},
        "about": DECISION["id"],
        "stance": "SUPPORTS",
        "sources": SOURCES,
    },
    "recordObservation": {
        "id": "auth-observation",
        "indicator": "stockpile",
        "scope": "UKR",
        "period": "2024",
        "value": 1.0,
        "sources": SOURCES,
    },
}


def _operation(name: str) -> str:
    kind = name[0].upper() + name[1:]
    return (
        f"mutation M($input: {kind}Input!) {{ {name}(input: $input) {{ __typename "
        f"... on {kind}Success {{ position }} }} }}"
    )


def test_every_mutation_refuses_bad_keys_with_the_right_code_and_stores_nothing(
    store: Store, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store.execute("recordTreaty", TREATY)
    store.execute("recordDecision", DECISION)
    ring = KeyRing(store.engine)
    _, editor = ring.create("editor")
    _, reader = ring.create("reader")
    revoked_key, revoked = ring.create("editor")
    ring.revoke(revoked_key.key_id)
    other = migrated(f"sqlite:///{tmp_path / 'other-deployment.sqlite3'}")
    _, foreign = KeyRing(other.engine).create("editor")
    other.close()
    prefix, key_id, secret = editor.split("_", 2)
    cases = {
        None: "UNAUTHORIZED",
        reader: "FORBIDDEN",
        revoked: "UNAUTHORIZED",
        foreign: "UNAUTHORIZED",
        f"{prefix}_{key_id}_{secret[:-1]}x": "UNAUTHORIZED",
        f"{prefix}_{key_id}_": "UNAUTHORIZED",
        f"xx_{key_id}_{secret}": "UNAUTHORIZED",
        "garbage": "UNAUTHORIZED",
    }
    head = store.head()
    texts = []
    with caplog.at_level(logging.DEBUG), serving(create_app(store)) as client:
        for name, data in MUTATIONS.items():
            for token, code in cases.items():
                headers = {"Authorization": f"Bearer {token}"} if token else {}
                response = client.post(
                    "/graphql",
                    json={"query": _operation(name), "variables": {"input": data}},
                    headers=headers,
                )
                texts.append(response.text)
                body = response.json()
                assert body["data"] is None, (name, token, body)
                assert [e["extensions"]["code"] for e in body["errors"]] == [code], body
        assert store.head() == head
        assert len(log_rows(store)) == head
        for name, data in MUTATIONS.items():  # the same inputs are fine with an editor key
            response = client.post(
                "/graphql",
                json={"query": _operation(name), "variables": {"input": data}},
                headers={"Authorization": f"Bearer {editor}"},
            )
            texts.append(response.text)
            assert "Success" in response.json()["data"][name]["__typename"], response.text
    logged = [r.getMessage() + str(r.exc_text or "") for r in caplog.records]
    for token in [editor, reader, revoked, foreign]:
        secret_part = token.split("_", 2)[2]  # secrets may contain "_" themselves
        for text in texts + logged:
            assert secret_part not in text


def test_a_wrong_key_costs_one_comparison_of_fixed_length_hashes_whatever_its_prefix(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Timing cannot depend on how much of a secret is right: only SHA-256 digests are compared."""
    ring = KeyRing(store.engine)
    _, token = ring.create("editor")
    prefix, key_id, secret = token.split("_", 2)
    compared: list[tuple[int, int]] = []
    real = hmac.compare_digest

    def spy(a: Any, b: Any) -> bool:
        compared.append((len(a), len(b)))
        return real(a, b)

    monkeypatch.setattr(keys_module.hmac, "compare_digest", spy)
    wrong = [
        f"{prefix}_{key_id}_{secret[:-1]}{'A' if secret[-1] != 'A' else 'B'}",  # all but one
        f"{prefix}_{key_id}_{'Z' * len(secret)}",  # nothing in common
        f"{prefix}_{key_id}_{secret[:1]}",
        f"{prefix}_000000000000_{secret}",  # unknown key id, right secret
        f"{prefix}_{key_id}",
        "",
    ]
    for attempt in wrong:
        compared.clear()
        assert ring.check(attempt) is None
        assert compared == [(64, 64)], (attempt, compared)
    assert ring.check(token) is not None
