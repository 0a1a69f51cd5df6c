"""Shared helpers for the GraphQL tests: requests, keys and the founding story's operations."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import uvicorn
from starlette.types import ASGIApp

SOURCES = [{"publisher": "Test Gazette", "quote": "it happened"}]

RECORD_TREATY = """
mutation Treaty($input: RecordTreatyInput!) {
  recordTreaty(input: $input) {
    __typename
    ... on RecordTreatySuccess { position treaty { id } }
    ... on ValidationError { message errors { path message } }
  }
}"""

RECORD_DECISION = """
mutation Record($input: RecordDecisionInput!) {
  recordDecision(input: $input) {
    __typename
    ... on RecordDecisionSuccess { position decision { id headline } }
    ... on ValidationError { message errors { path message } }
    ... on Conflict { message id }
    ... on NotFound { message id }
  }
}"""

CORRECT_DECISION = """
mutation Correct($input: CorrectDecisionInput!) {
  correctDecision(input: $input) {
    __typename
    ... on CorrectDecisionSuccess { position decision { id headline } }
    ... on ValidationError { message errors { path message } }
    ... on NotFound { message id }
  }
}"""

RETRACT_DECISION = """
mutation Retract($input: RetractDecisionInput!) {
  retractDecision(input: $input) {
    __typename
    ... on RetractDecisionSuccess { position decision { id status } }
    ... on NotFound { message id }
  }
}"""

HISTORY = """
query History($id: ID!, $minPosition: Int) {
  decision(id: $id, minPosition: $minPosition) {
    headline
    history { position eventType reason keyId }
  }
}"""

TREATY = {"id": "ottawa-convention", "name": "Mine Ban Treaty", "sources": SOURCES}
DECISION = {
    "id": "ukr-1999-02-24-sign-ottawa",
    "actor": "UKR",
    "action": "SIGN",
    "treaty": "ottawa-convention",
    "decidedOn": "1999-02-24",
    "headline": "Ukraine signs the Mine Ban Treaty",
    "sources": SOURCES,
}


def gql(
    client: httpx.Client,
    query: str,
    variables: dict[str, Any] | None = None,
    key: str | None = None,
) -> dict[str, Any]:
    """POST one operation and return the decoded GraphQL response."""
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    response = client.post(
        "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def codes(body: dict[str, Any]) -> list[str | None]:
    """The extensions.code of each error in a response."""
    return [(e.get("extensions") or {}).get("code") for e in body.get("errors", [])]


@contextlib.contextmanager
def running(app: ASGIApp) -> Iterator[str]:
    """Serve `app` with a real uvicorn server on a free local port; yields its base URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@contextlib.contextmanager
def serving(app: ASGIApp) -> Iterator[httpx.Client]:
    """An HTTP client talking to `app` through a real uvicorn server."""
    with running(app) as url, httpx.Client(base_url=url, timeout=10) as client:
        yield client
