"""The embed page's markup for every branch it has, with hostile text in every field.

The pages the store can give (tests/test_embed_snapshots.py) leave some branches out: a
figure marked as an estimate, more reactions than an entry shows, a retraction without a
recorded step. These pages are built by hand, each field holding markup, quotes, bidi
controls, control characters and format directives, and compared byte for byte with the HTML
kept in tests/fixtures/embed_pages/ (rewritten with `POLICY_TIMELINE_TEST_UPDATE_PAGES=1`,
as the snapshots are: review the diff before committing it)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markupsafe import Markup, escape

from api.embed.figures import Figure
from api.embed.params import View
from api.embed.render import render_page
from api.embed.story import Correction, Reaction, Source, Story
from api.embed.timeline import Entry, Link, TimelinePage
from api.text.htmlsafe import esc
from domain.dates import FuzzyDate

PAGES = Path(__file__).resolve().parent / "fixtures" / "embed_pages"
UPDATE_ENV = "POLICY_TIMELINE_TEST_UPDATE_PAGES"
EVIL = "<script>alert(\"x\")</script> & 'q' \u202eтекст\u2066 עברית \x01 %(date)s %s {} %%"  # noqa: RUF001
URL = 'https://example.org/a?b=1&c="2"\'<x>'


def evil(name: str) -> str:
    """Hostile text, told apart by the field it stands in."""
    return f"{name}: {EVIL}"


def _sources(name: str) -> list[Source]:
    return [
        Source(evil(f"{name} publisher"), evil(f"{name} title"), URL, URL + "#archive", "2024"),
        Source(evil(f"{name} untitled"), None, None, None, None),
        Source(evil(f"{name} archived"), None, None, URL, evil("published")),
    ]


def _change(name: str, full: bool) -> Correction:
    return Correction(
        date=evil(f"{name} date"),
        reason=evil(f"{name} reason") if full else "",
        changed=evil(f"{name} changed") if full else "",
        sources=_sources(name) if full else [],
        before=f"?{name}=before&x=<y>",
        after=f'?{name}=after&x="y"',
    )


def _link(name: str, lang: str) -> Link:
    return Link(evil(f"{name} id"), evil(f"{name} headline"), f"?{name}&x=<y>#z", lang)


def _entry(n: int, status: str, full: bool, lang: str) -> Entry:
    tag = f"entry {n}"
    story = Story()
    if full:
        story = Story(
            decided_by=[(evil("decider"), evil("office")), (evil("decider 2"), None)],
            announced_by=[(evil("announcer"), None), (evil("announcer 2"), evil("office 2"))],
            certainty=evil("certainty"),
            dates=[(evil("date label"), "2024-03", evil("date text")), ("Reported", "2024", "x")],
            flags=[((evil("treaty a"), "en"), evil("flag a")), ((evil("treaty b"), lang), "b")],
            reactions=[
                Reaction(
                    said=Markup("<bdi>{}</bdi> condemns").format(evil("speaker")),
                    quote=evil("quote"),
                    translation=evil("translation"),
                    date=evil("reaction date"),
                    sources=_sources("reaction")[:2],
                ),
                Reaction(Markup("said"), None, None, None, []),
            ],
            more_reactions={0: 1, 1: 4}.get(n, 0),
            corrections=[_change("correction", True), _change("correction 2", False)],
            retraction=_change("retraction", n % 2 == 0),
        )
    date = FuzzyDate(["2021", "2022-05", "2023-06-07?", "2024-01~"][n % 4])
    entry = Entry(
        id=evil(f"{tag} id"),
        headline=evil(f"{tag} headline"),
        action="PLEDGE",
        action_label=evil(f"{tag} action"),
        actor=evil(f"{tag} actor"),
        recipient=evil(f"{tag} recipient") if full else None,
        treaty=evil(f"{tag} treaty") if full else None,
        scope=evil(f"{tag} scope") if full else None,
        weapons=[evil("weapon a"), evil("weapon b")] if full else [],
        categories=[],
        role="ACTOR",
        role_label=evil(f"{tag} role") if full else None,
        status=status,
        edtf=date.edtf,
        datetime=date.edtf.rstrip("?~%"),
        date_text=evil(f"{tag} date"),
        date=date,
        summary=evil(f"{tag} summary") if full else None,
        sources=_sources(tag) if full else [],
        story=story,
        langs={"headline": lang if n % 2 else "en", "summary": "en", "scope": lang},
        stale=["headline", "scope"] if full else [],
        treaty_lang="en" if n % 2 else lang,
    )
    if full:
        entry.reverses = [_link("reverses", lang), _link("reverses 2", "en")]
        entry.reversed_by = [_link("reversed by", "en")]
        entry.departs_from = [_link("departs from", lang)]
        entry.departed_from_by = [_link("departed from by", "en"), _link("departed 2", lang)]
    return entry


def _figure(n: int, full: bool) -> Figure:
    return Figure(
        label=evil(f"figure {n} label"),
        period=evil(f"figure {n} period"),
        value=evil(f"figure {n} value"),
        unit=evil(f"figure {n} unit") if full else None,
        estimate=full,
        conflict=full,
        note=evil(f"figure {n} note") if full else None,
        sources=_sources(f"figure {n}") if full else [],
        langs={"label": "en", "unit": "fr", "note": "uk"},
    )


def every_branch_page(lang: str, theme: str, *, empty: bool = False) -> TimelinePage:
    """A page whose entries, figures and links take every branch of the markup."""
    view = View(kind="system", key=evil("key"), theme=theme, lang=lang, after=evil("cursor"))
    entries = [
        _entry(0, "CORRECTED", True, lang),
        _entry(1, "CONFIRMED", True, lang),
        _entry(2, "RETRACTED", True, lang),
        _entry(3, "RETRACTED", False, lang),
        _entry(4, "CONFIRMED", False, lang),
        _entry(5, "CORRECTED", True, lang),
    ]
    return TimelinePage(
        view=view,
        title=evil("title"),
        entries=[] if empty else entries,
        earlier=None if empty else evil("earlier"),
        later=evil("later"),
        position=123,
        figures=[] if empty else [_figure(0, True), _figure(1, False)],
    )


CASES = {
    "every-branch-en": ("en", "light", False),
    "every-branch-fr": ("fr", "dark", False),
    "every-branch-uk": ("uk", "contrast", False),
    "every-branch-empty-fr": ("fr", "light", True),
}


@pytest.mark.parametrize("name", CASES)
def test_every_branch_of_the_markup_is_byte_identical_to_the_kept_html(name: str) -> None:
    lang, theme, empty = CASES[name]
    url = "https://embed.test/embed/timeline?" + evil("url")
    html = render_page(
        every_branch_page(lang, theme, empty=empty),
        self_url=url + "#self",
        cite_url=url + "#cite",
        oembed_url=url + "#oembed",
    )
    assert str(escape(evil("entry 0 headline"))) in html or empty
    path = PAGES / f"{name}.html"
    if os.environ.get(UPDATE_ENV) == "1":
        path.write_text(html, encoding="utf-8")
    assert path.read_text(encoding="utf-8") == html, f"{name} differs from {path.name}"


@settings(max_examples=500, deadline=None)
@given(text=st.text() | st.sampled_from([EVIL, URL, "", "&amp;", "\x00", "\ud800"]))
def test_esc_writes_what_markupsafe_escape_writes(text: str) -> None:
    assert esc(text) == str(escape(text))
    assert type(esc(text)) is str  # no Markup: it is never mistaken for escaped input


def test_esc_writes_numbers_and_other_objects_as_their_text_escaped() -> None:
    assert esc(123) == str(escape(123)) == "123"
    assert esc(Path("<a>")) == "&lt;a&gt;"
