"""HTTP routes: /embed/timeline, /oembed and /timelinejs.json."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlencode

import orjson
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from api.embed import oembed as oe
from api.embed import timelinejs
from api.embed.caching import PageCache, cache_control, etag, not_modified
from api.embed.params import BadParameter, View, parse_view
from api.embed.render import content_security_policy, render_page
from api.embed.timeline import (
    TimelinePage,
    load_page,
    position_at,
    projected_position,
    read_page,
    read_state,
    view_title,
)
from api.text.htmlsafe import html_safe_json
from domain.errors import PolicyRecordError
from projections.readmodels.arguments import check_category, check_record
from projections.service import Store


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        html_safe_json(orjson.dumps(data)),  # <, >, & as \u escapes: no markup from the record
        status_code=status,
        media_type="application/json",
        headers=headers,
    )


def _check_view(store: Store, view: View) -> None:
    if view.as_of is not None and view.as_of > (head := store.head()):
        raise BadParameter(f"asOf: position {view.as_of} is past the end of the log ({head})")
    # An unknown weapon is a 400 like an unknown country: never a page titled with its text.
    if view.kind == "system":
        check_record(store.read, "weapon", "system", view.key)
    elif view.kind == "category":
        check_category(store.read, "category", view.key)


def _locate(store: Store, view: View) -> int:
    """Check the view against the store and give the position its answer reflects: reads of
    the database, for a worker thread."""
    _check_view(store, view)
    return projected_position(store, view)


def _base(request: Request) -> str:
    """The public base URL: `api.http.public_url.PublicOrigin` has put it in the scope."""
    return str(request.base_url).rstrip("/")


def embed_routes(store: Store, pages: PageCache | None = None) -> list[BaseRoute]:
    """The embed routes serving one store; `pages` keeps rendered pages by ETag."""
    pages = pages if pages is not None else PageCache()

    def render(page: TimelinePage, base: str) -> bytes:
        """The page's HTML."""
        view = page.view
        self_url = f"{base}{oe.EMBED_PATH}?{view.query(after=None, before=None)}"
        cite_url = f"{base}{oe.EMBED_PATH}?{view.query(as_of=page.position)}"
        oembed_url = f"{base}/oembed?" + urlencode({"url": self_url, "format": "json"})
        html = render_page(page, self_url=self_url, cite_url=cite_url, oembed_url=oembed_url)
        return html.encode()

    def timelinejs_document(view: View, position: int, base: str) -> dict[str, Any]:
        """The view's TimelineJS document at `position`, up to TimelineJS's event limit, with
        a link to the rest (queries and the document's text: for a worker thread)."""
        pages = [load_page(store, view, position=position)]
        count = len(pages[0].entries)
        while pages[-1].later and count < timelinejs.MAX_EVENTS:
            later = View(**{**vars(view), "after": pages[-1].later})
            pages.append(load_page(store, later, position=position))
            count += len(pages[-1].entries)
        more = None
        if pages[-1].later:
            more = f"{base}/timelinejs.json?{view.query(after=pages[-1].later)}"
        return timelinejs.document(pages, more)

    def answer(request: Request, view: View) -> tuple[str, bytes | None]:
        """The page's ETag, and its bytes unless the client has them: kept ones, else the
        queries and the markup (for a worker thread, all in one; the reads on one
        connection). The projections' positions are read once for the ETag, and once more
        after the page's reads when it is read anew."""
        _check_view(store, view)
        with store.read.pinned() as read:
            before = read_state(store, read)
            position = position_at(view, before)
            tag = etag(request, view, position)
            if not_modified(request, tag):
                return tag, None
            body = pages.get(tag)
            if body is not None:
                return tag, body
            page = read_page(store, read, view, position=position)
            # Read again for a live view: the page's reads are not one snapshot, so an event
            # projected meanwhile would otherwise be kept under this ETag.
            after = read_state(store, read) if view.as_of is None else before
        body = render(page, _base(request))
        # These bytes are the page at `position` for good (the ETag's promise, which lets the
        # next reader skip the queries and the markup): a pinned view once every projection
        # has passed its position; a live one when every projection stood at it before and
        # after the page was read.
        if view.as_of is not None:
            settled = before[0] >= position
        else:
            settled = before == after == (position, position)
        if settled:
            pages.put(tag, body)
        return tag, body

    async def embed_timeline(request: Request) -> Response:
        security = {"Content-Security-Policy": content_security_policy()}
        security |= {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "strict-origin"}
        try:
            view = parse_view(request.query_params)
            tag, body = await asyncio.to_thread(answer, request, view)
        except (BadParameter, PolicyRecordError) as exc:
            return PlainTextResponse(str(exc), status_code=400, headers=security)
        headers = {**security, "ETag": tag, "Cache-Control": cache_control(view)}
        if body is None:
            return Response(status_code=304, headers=headers)
        return HTMLResponse(body, headers=headers)

    async def oembed(request: Request) -> Response:
        params = dict(request.query_params)
        if params.get("format", "json") != "json":
            return _json({"error": "format: only json is supported"}, 501)
        url = params.get("url")
        if not url:
            return _json({"error": "url: required (an embed URL of this server)"}, 400)
        try:
            view = oe.view_of_url(url, request.url.netloc)
            position = await asyncio.to_thread(_locate, store, view)
            tag = etag(request, urlencode(sorted(params.items())), position)
            headers = {"ETag": tag, "Cache-Control": f"public, max-age={oe.CACHE_AGE}"}
            if not_modified(request, tag):
                return Response(status_code=304, headers=headers)
            title = await asyncio.to_thread(view_title, store.read, view)
            body = oe.oembed(_base(request), view, title, params)
        except oe.NotOurs as exc:
            return _json({"error": str(exc)}, 404)
        except (BadParameter, PolicyRecordError) as exc:
            return _json({"error": str(exc)}, 400)
        return _json(body, headers=headers)

    async def timeline_json(request: Request) -> Response:
        try:
            view = parse_view(request.query_params)
            position = await asyncio.to_thread(_locate, store, view)
            tag = etag(request, view, position)
            headers = {"ETag": tag, "Cache-Control": cache_control(view)}
            if not_modified(request, tag):
                return Response(status_code=304, headers=headers)
            document = await asyncio.to_thread(timelinejs_document, view, position, _base(request))
        except (BadParameter, PolicyRecordError) as exc:
            return _json({"error": str(exc)}, 400)
        return _json(document, headers=headers)

    return [
        Route(oe.EMBED_PATH, embed_timeline, methods=["GET"]),
        Route("/oembed", oembed, methods=["GET"]),
        Route("/timelinejs.json", timeline_json, methods=["GET"]),
    ]
