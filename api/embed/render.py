"""The embed page: its HTML (`api.embed.markup`) with a strict Content-Security-Policy."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

from api.embed import markup
from api.embed.timeline import TimelinePage
from projections import settings

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
FRAME_ANCESTORS_ENV = settings.env_name("frame_ancestors")
CSS = (TEMPLATES / "embed.css").read_text(encoding="utf-8")
JS = (TEMPLATES / "embed.js").read_text(encoding="utf-8")


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


# Hashes, not nonces: a page revalidated with 304 keeps its cached body, so the policy that
# allows its inline style and script must not change from one response to the next.
STYLE_HASH, SCRIPT_HASH = _sha256(CSS), _sha256(JS)


def frame_ancestors() -> str:
    """Who may frame the embeds (env POLICY_TIMELINE_FRAME_ANCESTORS, default any page)."""
    return settings.current().frame_ancestors


def content_security_policy() -> str:
    """Nothing may load from anywhere; only our own inline style and script may run."""
    return "; ".join(
        [
            "default-src 'none'",
            f"style-src {STYLE_HASH}",
            f"script-src {SCRIPT_HASH}",
            "base-uri 'none'",
            "form-action 'none'",
            f"frame-ancestors {frame_ancestors()}",
        ]
    )


def render_page(page: TimelinePage, *, self_url: str, cite_url: str, oembed_url: str) -> str:
    """The whole HTML document for one page of a timeline (its markup: `api.embed.markup`)."""
    return markup.render_page(
        page, self_url=self_url, cite_url=cite_url, oembed_url=oembed_url, css=CSS, js=JS
    )
