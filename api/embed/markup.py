"""The embed page's HTML, written by plain functions: the whole page's markup is in this file.

Every piece of text from the record goes through `esc` (markupsafe's escaping of &, <, >, '
and ", on a plain str) exactly once, where it is written into the markup; messages from the
catalogs are markup already (`Messages`), and their variables are escaped as they are filled
in. Each function returns a str of HTML; `render_page` joins the page once.

Functions rather than a template: a page of 100 entries holds about 3,500 pieces of escaped
text, and a template engine's call, attribute and Markup machinery cost several times the
text itself (see docs/performance.md, "Embed")."""

from __future__ import annotations

import re
from functools import lru_cache

from babel.support import Translations
from markupsafe import Markup

from api.embed.figures import Figure
from api.embed.graphic import graphic
from api.embed.story import Correction, Source, field_label
from api.embed.timeline import Entry, Link, TimelinePage
from api.text.catalogs import LANGS, N_, translations
from api.text.htmlsafe import esc, without_bidi

__all__ = ["render_page"]

LINK_ATTRS = 'rel="noopener noreferrer nofollow" target="_blank"'
RELATED = (  # an entry's links to other decisions, in the order they are shown
    N_("Reverses: %(decision)s"),
    N_("Reversed by: %(decision)s"),
    N_("Makes an exception to: %(decision)s"),
    N_("Exception made by: %(decision)s"),
)
# The directives the catalogs use: %(name)s and %%. A message with any other is formatted as
# Markup formats it.
_NAMED_ONLY = re.compile(r"(?:[^%]|%%|%\([a-z_]+\)s)*")


class Messages:
    """One language's interface messages as HTML: a message's translation is markup, each
    variable filled in is HTML already (the caller escapes text with `esc`)."""

    def __init__(self, catalog: Translations) -> None:
        self.catalog = catalog
        self._alone: dict[str, str] = {}
        self._found: dict[str, tuple[str, bool]] = {}

    def __call__(self, message: str, /, **html: str) -> str:
        if not html:
            done = self._alone.get(message)
            if done is None:
                done = self._alone[message] = str(Markup(self.catalog.gettext(message)) % {})
            return done
        found = self._found.get(message)
        if found is None:
            translated = self.catalog.gettext(message)
            found = self._found[message] = (
                translated,
                _NAMED_ONLY.fullmatch(translated) is not None,
            )
        translated, named = found
        if named:
            return str.__mod__(translated, html)
        return str(Markup(translated) % {k: Markup(v) for k, v in html.items()})

    def plural(self, singular: str, plural: str, count: int) -> str:
        """A message that depends on a number, with the number as %(count)s."""
        text = Markup(self.catalog.ngettext(singular, plural, count))
        return str(text % {"count": count, "num": count})


@lru_cache(maxsize=len(LANGS))
def messages(lang: str) -> Messages:
    """The messages of one language (one object per language, each a few dozen strings)."""
    return Messages(translations(lang))


def _term(term: str, description: str) -> str:
    return f"<dt>{term}</dt><dd>{description}</dd>"


class _Page:
    """The markup of one page, in the view's language."""

    def __init__(self, page: TimelinePage) -> None:
        self.page = page
        self.view = page.view
        self.lang = page.view.lang
        self._ = messages(self.lang)

    # Pieces of recorded text, isolated (<bdi>) and marked with their language where it is
    # not the page's (recorded text is in English until a translation is recorded: say so to
    # screen readers).
    def rec(self, text: object, text_lang: str = "en") -> str:
        if text_lang != self.lang:
            return f'<bdi lang="{esc(text_lang)}">{esc(text)}</bdi>'
        return f"<bdi>{esc(text)}</bdi>"

    def link(self, link: Link) -> str:
        return f'<a href="{esc(link.href)}">{self.rec(link.headline, link.lang)}</a>'

    def person(self, who: tuple[str, str | None]) -> str:
        office = f" ({self.rec(who[1])})" if who[1] else ""
        return f"<bdi>{esc(who[0])}</bdi>{office}"

    def sources(self, sources: list[Source]) -> str:
        """Each source once: publisher and title, linked to its address, its date, and its
        archived copy."""
        if not sources:
            return ""
        _, rec = self._, self.rec
        items = []
        for s in sources:
            name = rec(s.publisher)
            if s.title:
                name = _("%(publisher)s: %(title)s", publisher=name, title=rec(s.title))
            if s.url:
                name = f'<a href="{esc(s.url)}" {LINK_ATTRS}>{name}</a>'
            published = f" ({esc(s.published)})" if s.published else ""
            archived = ""
            if s.archive_url:
                copy = _("archived copy")
                archived = f' · <a href="{esc(s.archive_url)}" {LINK_ATTRS}>{copy}</a>'
            items.append(f"<li>{name}{published}{archived}</li>\n")
        label = _("Sources")
        return f'<ul class="sources" aria-label="{label}">\n{"".join(items)}</ul>\n'

    def change(self, c: Correction, retracted: bool = False) -> str:
        """A correction or a retraction: when, why, what, and the views before and after."""
        _ = self._
        date = esc(c.date)
        if retracted:
            said = _("Retracted on %(date)s", date=date)
            before, after = _("Before the retraction"), _("After the retraction")
        else:
            said = _("Corrected on %(date)s", date=date)
            before, after = _("Before the correction"), _("After the correction")
        if c.reason:
            said += " · " + _("Reason: %(reason)s", reason=self.rec(c.reason))
        if c.changed:
            said += " · " + _("Changed: %(fields)s", fields=esc(c.changed))
        return (
            f"<p>{said}</p>\n"
            f'<p><a href="{esc(c.before)}">{before}</a>'
            f' · <a href="{esc(c.after)}">{after}</a></p>\n'
            f"{self.sources(c.sources)}"
        )

    def pages(self, place: int) -> str:
        """Links to the earlier and later pages, if any."""
        page, _, view = self.page, self._, self.view
        if not (page.earlier or page.later):
            return ""
        links = ""
        if page.earlier:
            query = esc(view.query(after=None, before=page.earlier))
            earlier = _("Earlier decisions")
            links += f'<a rel="prev" href="?{query}">← {earlier}</a>'
        if page.later:
            query = esc(view.query(before=None, after=page.later))
            later = _("Later decisions")
            links += f'<a rel="next" href="?{query}">{later} →</a>'
        label = _("Pages (%(place)s)", place=str(place))
        return f'<nav class="pages" aria-label="{label}">\n{links}</nav>\n'

    def retracted(self, e: Entry) -> str:
        """A retracted decision: only a notice where it was, so that old links still land."""
        _, eid = self._, esc(e.id)
        headline = self.rec(e.headline, e.langs.get("headline", "en"))
        retraction = e.story.retraction
        status, notice = _("Retracted"), _("A decision recorded here was retracted")
        said = _("It read: %(headline)s", headline=headline)
        return (
            '<li class="retracted">\n'
            f'<article id="{eid}" tabindex="-1" aria-labelledby="h-{eid}"'
            f' data-edtf="{esc(e.edtf)}">\n'
            f'<p class="meta"><time datetime="{esc(e.datetime)}">{esc(e.date_text)}</time>'
            f' · <span class="status">{status}</span></p>\n'
            f'<h2 id="h-{eid}">{notice}</h2>\n'
            f"<p>{said}</p>\n"
            f"{self.change(retraction, True) if retraction else ''}"
            "</article>\n"
            "</li>\n"
        )

    def entry(self, e: Entry) -> str:
        """One decision with its whole story."""
        _, rec, s, eid = self._, self.rec, e.story, esc(e.id)
        langs = e.langs
        out = [
            "<li>\n"
            f'<article id="{eid}" tabindex="-1" aria-labelledby="h-{eid}"'
            f' data-edtf="{esc(e.edtf)}">\n'
            f'<p class="meta"><time datetime="{esc(e.datetime)}">{esc(e.date_text)}</time>'
            f" · {esc(e.action_label)}"
        ]
        if e.role_label:
            out.append(" · " + _("Role: %(role)s", role=esc(e.role_label)))
        if e.status == "CORRECTED":
            corrected = _("Corrected")
            out.append(f' · <span class="status">{corrected}</span>')
        headline = rec(e.headline, langs.get("headline", "en"))
        link_title = _("Link to this decision")
        out.append(
            f'</p>\n<h2 id="h-{eid}"><a href="#{eid}" title="{link_title}">{headline}</a></h2>\n'
        )
        if e.stale:
            fields = esc(", ".join(field_label(name, self.lang) for name in e.stale))
            stale = _("Translated before a correction of the original: %(fields)s", fields=fields)
            out.append(f'<p class="meta stale">{stale}</p>')
        if s.certainty:
            out.append(f'<p class="certainty"><strong>{esc(s.certainty)}</strong></p>')
        recipient = f" → {esc(e.recipient)}" if e.recipient else ""
        out.append(f'<p class="parties">{esc(e.actor)}{recipient}</p>\n')
        if e.summary:
            out.append(f'<p class="summary">{rec(e.summary, langs.get("summary", "en"))}</p>')
        out.append("<dl>\n")
        if e.weapons:
            weapons = ", ".join(f"<bdi>{esc(w)}</bdi>" for w in e.weapons)
            out.append(_term(_("Weapons"), weapons))
        if e.scope:
            out.append(_term(_("Scope"), rec(e.scope, langs.get("scope", "en"))))
        if e.treaty:
            out.append(_term(_("Treaty"), rec(e.treaty, e.treaty_lang)))
        if s.decided_by:
            people = "; ".join(self.person(who) for who in s.decided_by)
            out.append(_term(_("Decided by"), people))
        if s.announced_by:
            people = "; ".join(self.person(who) for who in s.announced_by)
            out.append(_term(_("Announced by"), people))
        for label, edtf, text in s.dates:
            out.append(
                f'<dt>{esc(label)}</dt><dd><time datetime="{esc(edtf)}">{esc(text)}</time></dd>'
            )
        out.append("</dl>\n")
        for treaty, reason in s.flags:
            conflict = _("Conflicts with a treaty: %(treaty)s", treaty=rec(treaty[0], treaty[1]))
            out.append(
                f'<p class="flag" role="note"><strong>{conflict}</strong>'
                f" · <bdi>{esc(reason)}</bdi></p>\n"
            )
        for message, links in zip(
            RELATED, (e.reverses, e.reversed_by, e.departs_from, e.departed_from_by), strict=True
        ):
            for link in links:
                related = _(message, decision=self.link(link))
                out.append(f'<p class="related">{related}</p>')
        if s.reactions:
            out.append(self.reactions(e))
        if s.corrections:
            changes = "".join(self.change(c) for c in s.corrections)
            heading = _("Corrections")
            out.append(
                f'<section class="corrections" aria-labelledby="c-{eid}">\n'
                f'<h3 id="c-{eid}">{heading}</h3>\n'
                f"{changes}</section>\n"
            )
        out.append(f"{self.sources(e.sources)}\n</article>\n</li>\n")
        return "".join(out)

    def reactions(self, e: Entry) -> str:
        """What others said about the decision, in their words, with their sources."""
        _, rec, s, eid = self._, self.rec, e.story, esc(e.id)
        quoted = ' lang="en"' if self.lang != "en" else ""
        heading = _("Reactions")
        out = [
            f'<section class="reactions" aria-labelledby="r-{eid}">\n'
            f'<h3 id="r-{eid}">{heading}</h3>\n'
        ]
        for r in s.reactions:
            out.append("<figure>\n")
            if r.quote:
                out.append(f"<blockquote{quoted}><p><bdi>{esc(r.quote)}</bdi></p></blockquote>")
            if r.translation:
                text = rec(r.translation, self.lang)
                translation = _("Translation: %(text)s", text=text)
                out.append(f'<p class="translation">{translation}</p>')
            # `said` is markup: the stance's message with the speaker's name escaped in it.
            caption = [str(r.said)]
            if r.date:
                caption.append(f" · {esc(r.date)}")
            for src in r.sources:
                name = rec(src.publisher)
                if src.url:
                    name = f'<a href="{esc(src.url)}" {LINK_ATTRS}>{name}</a>'
                caption.append(f" · {name}")
            out.append(f"<figcaption>{''.join(caption)}</figcaption>\n</figure>\n")
        if s.more_reactions:
            ngettext = _.plural
            more = ngettext(
                "One more reaction is in the record.",
                "%(count)s more reactions are in the record.",
                s.more_reactions,
            )
            out.append(f'<p class="meta">{more}</p>\n')
        out.append("</section>\n")
        return "".join(out)

    def figure(self, f: Figure) -> str:
        """One of the country's figures, with its sources."""
        _, rec = self._, self.rec
        said = _(
            "%(label)s, %(period)s: %(value)s",
            label=rec(f.label, f.langs.get("label", "en")),
            period=esc(f.period),
            value=esc(f.value),
        )
        if f.unit:
            said += " " + rec(f.unit, f.langs.get("unit", "en"))
        if f.estimate:
            said += " · <strong>" + _("estimate") + "</strong>"
        if f.conflict:
            differ = _("other sources give a different figure")
            said += f' · <strong class="status">{differ}</strong>'
        note = f'<p class="meta">{rec(f.note, f.langs.get("note", "en"))}</p>' if f.note else ""
        return f"<li><p>{said}</p>\n{note}{self.sources(f.sources)}</li>\n"

    def document(self, *, self_url: str, cite_url: str, oembed_url: str, css: str, js: str) -> str:
        page, view, _ = self.page, self.view, self._
        title = esc(page.title)
        plain_title = esc(without_bidi(page.title))  # a <title> or attribute cannot hold a <bdi>
        if page.entries:
            entries = "".join(
                self.retracted(e) if e.status == "RETRACTED" else self.entry(e)
                for e in page.entries
            )
            timeline = f'<ol class="timeline">\n{entries}</ol>\n'
        else:
            timeline = "<p>" + _("No decisions recorded.") + "</p>\n"
        figures = ""
        if page.figures:
            items = "".join(self.figure(f) for f in page.figures)
            heading = _("Figures")
            figures = (
                '<section class="figures" aria-labelledby="figures">\n'
                f'<h2 id="figures">{heading}</h2>\n'
                f"<ul>\n{items}</ul>\n</section>\n"
            )
        position = _("as recorded at log position %(position)s", position=esc(page.position))
        hint = _("Use j and k, or the arrow keys, to move between decisions.")
        cite, name = _("Cite this view"), _("Policy Timeline")
        return (
            "<!doctype html>\n"
            f'<html lang="{esc(view.lang)}" class="theme-{esc(view.theme)}">\n'
            "<head>\n"
            '<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            '<meta name="referrer" content="strict-origin-when-cross-origin">\n'
            f"<title>{plain_title}</title>\n"
            f'<link rel="alternate" type="application/json+oembed" href="{esc(oembed_url)}"'
            f' title="{plain_title}">\n'
            f'<link rel="canonical" href="{esc(self_url)}">\n'
            f"<style>{css}</style>\n"
            "</head>\n"
            "<body>\n"
            "<main>\n"
            "<header>\n"
            f"<h1><bdi>{title}</bdi></h1>\n"
            f'<p class="hint">{hint}</p>\n'
            "</header>\n"
            f"{graphic(page.shown, self.lang)}\n"
            f"{self.pages(1)}\n"
            f"{timeline}"
            f"{self.pages(2)}\n"
            f"{figures}"
            "<footer>\n"
            f'<p class="cite"><a href="{esc(cite_url)}" target="_blank" rel="noopener">'
            f"{cite}</a> ({position}) · {name}</p>\n"
            "</footer>\n"
            "</main>\n"
            f"<script>{js}</script>\n"
            "</body>\n"
            "</html>"
        )


def render_page(
    page: TimelinePage, *, self_url: str, cite_url: str, oembed_url: str, css: str, js: str
) -> str:
    """The whole HTML document for one page of a timeline; `css` and `js` go in as they are."""
    return _Page(page).document(
        self_url=self_url, cite_url=cite_url, oembed_url=oembed_url, css=css, js=js
    )
