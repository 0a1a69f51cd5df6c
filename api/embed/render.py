"""The embed page: Jinja2 (autoescaped) HTML with a strict Content-Security-Policy."""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from api.embed.graphic import graphic
from api.embed.story import field_label
from api.embed.timeline import TimelinePage
from api.text.catalogs import LANGS, translations
from api.text.htmlsafe import without_bidi
from projections import settings

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
FRAME_ANCESTORS_ENV = settings.env_name("frame_ancestors")


@lru_cache(maxsize=len(LANGS))
def environment(lang: str) -> Environment:
    """The templates with one language's catalog installed (one environment per language)."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    env.install_gettext_translations(translations(lang), newstyle=True)  # type: ignore[attr-defined]
    env.filters["plain"] = without_bidi  # a <title> or attribute cannot hold a <bdi>
    return env


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
    """The whole HTML document for one page of a timeline."""
    return (
        environment(page.view.lang)
        .get_template("embed_timeline.html")
        .render(
            page=page,
            view=page.view,
            graphic=graphic(page.shown, page.view.lang),
            stale_fields=lambda names: ", ".join(field_label(n, page.view.lang) for n in names),
            css=Markup(CSS),
            js=Markup(JS),
            self_url=self_url,
            cite_url=cite_url,
            oembed_url=oembed_url,
        )
    )
