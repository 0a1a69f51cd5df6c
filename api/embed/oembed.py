"""oEmbed 1.0 for embed URLs: type rich, an iframe sized within maxwidth and maxheight."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlsplit

from markupsafe import escape

from api.embed.params import BadParameter, View, parse_view, whole_number
from api.text.catalogs import tr

EMBED_PATH = "/embed/timeline"
DEFAULT_WIDTH, DEFAULT_HEIGHT = 640, 600
CACHE_AGE = 3600


class NotOurs(LookupError):
    """The URL is not one of this server's embed URLs."""


def view_of_url(url: str, host: str) -> View:
    """The view an embed URL of this server shows, or NotOurs."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or parts.netloc != host or parts.path != EMBED_PATH:
        raise NotOurs(f"url: {url!r} is not an embed URL of this server")
    try:
        return parse_view(dict(parse_qsl(parts.query)))
    except BadParameter as exc:
        raise NotOurs(f"url: {exc}") from None


def _size(params: dict[str, str], name: str, default: int) -> int:
    text = params.get(name)
    if text is None or text == "":
        return default
    value = whole_number(text)
    if value is None or value < 1:
        raise BadParameter(f"{name}: must be a whole number of pixels ≥ 1")
    return min(default, value)


def oembed(base: str, view: View, title: str, params: dict[str, str]) -> dict[str, Any]:
    """The oEmbed response for an embed view, its URLs built on this server's public base."""
    url = f"{base}{EMBED_PATH}?{view.query()}"
    width = _size(params, "maxwidth", DEFAULT_WIDTH)
    height = _size(params, "maxheight", DEFAULT_HEIGHT)
    html = (
        f'<iframe src="{escape(url)}" width="{width}" height="{height}" title="{escape(title)}"'
        ' loading="lazy" referrerpolicy="strict-origin-when-cross-origin"'
        ' sandbox="allow-scripts allow-popups allow-popups-to-escape-sandbox"'
        ' style="border:0;max-width:100%"></iframe>'
    )
    return {
        "version": "1.0",
        "type": "rich",
        "title": title,
        "provider_name": tr(view.lang, "Policy Timeline"),
        "provider_url": f"{base}/",
        "html": html,
        "width": width,
        "height": height,
        "cache_age": CACHE_AGE,
    }
