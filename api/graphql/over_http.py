"""GraphQL over HTTP (the GraphQL Foundation's specification): media types and status codes.

A client that accepts `application/graphql-response+json` (and prefers it to
`application/json`) gets that media type, and a request error — one raised before
execution: a document that does not parse or validate, variables that do not coerce, a
persisted query not found — answers 400 without a `data` entry. `application/json` (also
for `*/*` or no Accept at all) keeps answering 200 with `errors`, as older clients expect.
"""

from __future__ import annotations

import json
import re
from typing import Any

from starlette.responses import Response
from strawberry.types import ExecutionResult

from api.text.htmlsafe import html_safe_json

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"
MEDIA_KEY = "policy_timeline.media_type"
"""Set in the ASGI scope by the GraphQL view: the media type negotiated for the answer."""
REQUEST_ERROR_KEY = "policy_timeline.request_error"
"""Set in the ASGI scope by the GraphQL view when the answer is a request error."""
MAX_MEDIA_RANGES = 32
"""Media ranges of an Accept header looked at; a longer list is cut, never parsed whole."""
_Q = re.compile(r"\s*q\s*=\s*(0(?:\.\d{0,3})?|1(?:\.0{0,3})?)\s*", re.IGNORECASE)
_NOT_REQUEST_ERRORS = frozenset({"INTERNAL_SERVER_ERROR", "SERVICE_UNAVAILABLE"})


def negotiate(accept: str) -> str:
    """The media type of the answer to a request with this Accept header."""
    weights = {GRAPHQL_RESPONSE: 0.0, JSON: 0.0}
    for media_range in accept.split(",", MAX_MEDIA_RANGES)[:MAX_MEDIA_RANGES]:
        media, *params = media_range.split(";")
        media = media.strip().lower()
        weight = 1.0
        for param in params:
            if param.strip().lower().startswith("q"):
                match = _Q.fullmatch(param)
                weight = float(match.group(1)) if match else 0.0
        if media in ("*/*", "application/*"):
            media = JSON  # the legacy type, for clients that name no GraphQL type
        if media in weights:
            weights[media] = max(weights[media], weight)
    preferred = weights[GRAPHQL_RESPONSE] > 0 and weights[GRAPHQL_RESPONSE] >= weights[JSON]
    return GRAPHQL_RESPONSE if preferred else JSON


def is_request_error(result: ExecutionResult) -> bool:
    """True when the result is an error raised before execution began (no data at all)."""
    if result.data is not None or not result.errors:
        return False
    for error in result.errors:
        code = (error.extensions or {}).get("code")
        if error.path is not None or code in _NOT_REQUEST_ERRORS:
            return False
    return True


def errors_response(errors: list[dict[str, Any]], status: int, media: str) -> Response:
    """A JSON answer holding only `errors`, in the negotiated media type."""
    body = html_safe_json(json.dumps({"errors": errors}, separators=(",", ":")))
    return Response(body, status_code=status, media_type=media)
