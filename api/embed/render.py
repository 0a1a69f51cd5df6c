"""The embed page: Jinja2 (autoescaped) HTML with a strict Content-Security-Policy."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from babel.support import Translations
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape

from api.embed.graphic import graphic
from api.embed.story import Source, field_label
from api.embed.timeline import Link, TimelinePage
from api.text.catalogs import LANGS, translations
from api.text.htmlsafe import without_bidi
from projections import settings

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
FRAME_ANCESTORS_ENV = settings.env_name("frame_ancestors")


# The directives the catalogs use: %(name)s and %%. A message with any other is formatted by
# Markup itself.
_NAMED_ONLY = re.compile(r"(?:[^%]|%%|%\([a-z_]+\)s)*")
_LINK_ATTRS = 'rel="noopener noreferrer nofollow" target="_blank"'


def _gettext(catalog: Translations) -> Callable[..., Markup]:
    """Jinja's new-style `gettext` for autoescaped templates, each message's Markup kept:
    the message's translation, %-formatted with its variables escaped."""
    alone: dict[str, Markup] = {}
    found: dict[str, tuple[Markup, bool]] = {}

    def gettext(message: str, **variables: object) -> Markup:
        if not variables:
            done = alone.get(message)
            if done is None:
                done = alone[message] = Markup(catalog.gettext(message)) % variables
            return done
        safe, named = found.get(message) or (None, False)
        if safe is None:
            safe = Markup(catalog.gettext(message))
            named = _NAMED_ONLY.fullmatch(safe) is not None
            found[message] = safe, named
        if named:  # what Markup's % does for %(name)s, without a helper object per value
            return Markup(str.__mod__(safe, {k: escape(v) for k, v in variables.items()}))
        return safe % variables

    return gettext


def _recorded(lang: str, gettext: Callable[..., Markup]) -> dict[str, Callable[..., Markup]]:
    """The page's pieces of recorded text, isolated (<bdi>) and marked with their language
    where it is not the page's (recorded text is in English until a translation is recorded:
    say so to screen readers). Called for every field of every entry: plain functions rather
    than template macros, which cost several times more per call."""

    def rec(text: object, text_lang: str = "en") -> Markup:
        if text_lang != lang:
            return Markup(f'<bdi lang="{escape(text_lang)}">{escape(text)}</bdi>')
        return Markup(f"<bdi>{escape(text)}</bdi>")

    def link_html(link: Link) -> Markup:
        return Markup(f'<a href="{escape(link.href)}">{rec(link.headline, link.lang)}</a>')

    def person(who: tuple[str, str | None]) -> Markup:
        office = f" ({rec(who[1])})" if who[1] else ""
        return Markup(f"<bdi>{escape(who[0])}</bdi>{office}")

    def source_list(sources: list[Source]) -> Markup:
        """Each source once: publisher and title, linked to its address, its date, and its
        archived copy."""
        if not sources:
            return Markup("")
        items = []
        for s in sources:
            name = rec(s.publisher)
            if s.title:
                name = gettext("%(publisher)s: %(title)s", publisher=name, title=rec(s.title))
            if s.url:
                name = Markup(f'<a href="{escape(s.url)}" {_LINK_ATTRS}>{name}</a>')
            published = f" ({escape(s.published)})" if s.published else ""
            archived = ""
            if s.archive_url:
                copy = gettext("archived copy")
                archived = f' · <a href="{escape(s.archive_url)}" {_LINK_ATTRS}>{copy}</a>'
            items.append(f"<li>{name}{published}{archived}</li>\n")
        label = gettext("Sources")
        return Markup(f'<ul class="sources" aria-label="{label}">\n{"".join(items)}</ul>\n')

    return {"rec": rec, "link_html": link_html, "person": person, "source_list": source_list}


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
    catalog = translations(lang)
    env.install_gettext_translations(catalog, newstyle=True)  # type: ignore[attr-defined]
    # The same messages as the extension's `_`, without its two context calls per message.
    gettext = env.globals["_"] = env.globals["gettext"] = _gettext(catalog)
    env.globals |= _recorded(lang, gettext)
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
