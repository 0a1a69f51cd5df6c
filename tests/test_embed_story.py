"""The embed tells the whole story: officials, flags, reactions, figures, corrections."""
# ruff: noqa: RUF001 -- French apostrophes

from __future__ import annotations

import re

from api.importing.commands import import_lines
from projections.service import Store
from tests.conftest import SOURCE, line
from tests.embed_support import UKR_IDS, Client, article_ids, seeded

ATACMS = "usa-2024-11-17-atacms-strikes-russia"
APL = "usa-2024-11-20-apl-ukraine"


def article(html: str, decision: str) -> str:
    """The HTML of one entry of an embed page."""
    found = re.search(rf'<article id="{decision}".*?</article>', html, re.S)
    assert found is not None, decision
    return found.group(0)


def graphic(html: str) -> str:
    found = re.search(r"<svg .*?</svg>", html, re.S)
    assert found is not None
    return found.group(0)


def test_officials_say_who_decided_and_who_announced(store: Store) -> None:
    apl = article(seeded(store).get("/embed/timeline?country=UKR").text, APL)
    assert "<dt>Decided by</dt><dd><bdi>Joe Biden</bdi> (<bdi>President</bdi>)</dd>" in apl
    assert (
        "<dt>Announced by</dt><dd><bdi>Lloyd Austin</bdi> (<bdi>Secretary of Defense</bdi>)</dd>"
    ) in apl
    assert '<dt>Announced</dt><dd><time datetime="2024-11-20">20 November 2024</time>' in apl


def test_a_compliance_flag_is_shown_with_its_plain_words_reason(store: Store) -> None:
    html = seeded(store).get("/embed/timeline?country=UKR").text
    flag = re.search(r'<p class="flag" role="note">(.*?)</p>', article(html, APL))
    assert flag is not None
    assert "Conflicts with a treaty: <bdi>Mine Ban Treaty</bdi>" in flag.group(1)
    assert (
        "Ukraine has been a party to the Mine Ban Treaty since 1 June 2006; the treaty forbids "
        "it to acquire antipersonnel landmines"
    ) in flag.group(1)
    assert 'class="flag"' not in article(html, ATACMS)
    fr = article(Client(store).get("/embed/timeline?country=UKR&lang=fr").text, APL)
    assert "Ukraine\u202f: partie au traité" in fr  # the reason in the reader's language


def test_reactions_show_the_speaker_the_stance_and_the_verbatim_quote(store: Store) -> None:
    apl = article(seeded(store).get("/embed/timeline?country=UKR&lang=fr").text, APL)
    assert "<h3" in apl and "Réactions</h3>" in apl
    assert "<bdi>Handicap International</bdi> condamne la décision" in apl
    assert "<bdi>Elliot de Faramond</bdi> s’inquiète de la décision" in apl
    assert (
        '<blockquote lang="en"><p><bdi>Ukrainian civilians will be the primary victims of these '
        "weapons, with very long-term consequences</bdi></p></blockquote>"
    ) in apl


def test_the_countrys_figures_mark_conflicting_sources(store: Store) -> None:
    client = seeded(store)
    html = client.get("/embed/timeline?country=UKR").text
    figures = html[html.index('<section class="figures"') :]
    label = "Casualties of mines and explosive remnants of war"
    assert f"<bdi>{label}</bdi>, 2023: 580 <bdi>casualties</bdi>" in figures
    assert "25,000" not in figures  # a world figure, not Ukraine's
    assert "other sources give a different figure" not in figures
    other = {"publisher": "Other Monitor", "url": "https://other.example/report"}
    import_lines(
        store,
        [
            line(
                "recordObservation",
                id="other-ukr-2023",
                indicator="landmine-casualties",
                scope="UKR",
                period="2023",
                value=612,
                unit="casualties",
                sources=[other],
            )
        ],
    )
    fr = client.get("/embed/timeline?country=UKR&lang=fr").text
    figures = fr[fr.index('<section class="figures"') :]
    assert "612" in figures and "d’autres sources donnent un autre chiffre" in figures
    assert "<h2" in figures and "Chiffres" in figures


def test_a_correction_says_why_what_changed_and_links_the_record_before_and_after(
    store: Store,
) -> None:
    client = seeded(store)
    import_lines(
        store,
        [
            line(
                "correctDecision",
                id=ATACMS,
                changes={"scope": "strikes in the Kursk region"},
                reason="the authorization was narrower",
                sources=[{"publisher": "Correction Desk", "url": "https://desk.example/c"}],
            )
        ],
    )
    entry = article(client.get("/embed/timeline?country=UKR").text, ATACMS)
    corrections = entry[entry.index('<section class="corrections"') :]
    assert "Reason: <bdi>the authorization was narrower</bdi>" in corrections
    assert "Changed: scope" in corrections and "Correction Desk" in corrections
    before = re.search(r'<a href="\?([^"]+)">Before the correction</a>', corrections)
    after = re.search(r'<a href="\?([^"]+)">After the correction</a>', corrections)
    assert before is not None and after is not None
    assert before.group(1) == f"country=UKR&amp;asOf=22#{ATACMS}"
    assert after.group(1) == f"country=UKR&amp;asOf=23#{ATACMS}"
    old = client.get("/embed/timeline?" + before.group(1).replace("&amp;", "&").split("#")[0])
    new = client.get("/embed/timeline?" + after.group(1).replace("&amp;", "&").split("#")[0])
    assert "strikes inside Russia" in article(old.text, ATACMS)
    assert "strikes in the Kursk region" in article(new.text, ATACMS)


def test_a_retracted_entry_is_announced_where_an_old_permalink_lands(store: Store) -> None:
    client = seeded(store)
    import_lines(
        store, [line("retractDecision", id=ATACMS, reason="never decided", sources=SOURCE)]
    )
    html = client.get("/embed/timeline?country=UKR&lang=uk").text
    assert article_ids(html) == UKR_IDS  # #usa-2024-11-17-... still finds its place
    notice = article(html, ATACMS)
    assert "Записане тут рішення відкликано" in notice and "never decided" in notice
    assert f'href="#{ATACMS}"' not in graphic(html)  # the graphic shows what stands
    events = client.get("/timelinejs.json?country=UKR").json()["events"]
    assert ATACMS not in [e["unique_id"] for e in events]


def test_each_source_is_listed_once_per_entry(store: Store) -> None:
    apl = article(seeded(store).get("/embed/timeline?country=UKR").text, APL)
    sources = apl[apl.rindex('<ul class="sources"') :]
    assert sources.count("https://www.lemonde.fr/en/international/article/2024/11/21/") == 1


def test_recorded_english_text_is_marked_on_french_and_ukrainian_pages(store: Store) -> None:
    client = seeded(store)
    for lang in ("fr", "uk"):
        entry = article(client.get(f"/embed/timeline?country=UKR&lang={lang}").text, APL)
        assert '<bdi lang="en">Biden authorizes antipersonnel mines for Ukraine</bdi>' in entry
        assert '<p class="summary"><bdi lang="en">US Defense Secretary' in entry
    english = client.get("/embed/timeline?country=UKR").text
    assert english.count('lang="en"') == 1  # the page's own: nothing differs from it


def test_the_graphic_draws_one_linked_mark_per_entry_on_a_year_axis(store: Store) -> None:
    client = seeded(store)
    svg = graphic(client.get("/embed/timeline?country=UKR").text)
    assert '<g role="img" aria-labelledby="graphic-title graphic-desc">' in svg
    assert '<title id="graphic-title">Decisions on a time axis</title>' in svg
    assert '<desc id="graphic-desc">From 1999 to 2024, one mark per decision' in svg
    assert re.findall(r'<a href="#([^"]+)"', svg) == UKR_IDS
    years = re.findall(r'class="tick"[^>]*>(\d+)<', svg)
    assert years == ["2000", "2005", "2010", "2015", "2020", "2025"]
    assert "http://" not in svg.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "<rect" not in svg  # every seed date is an exact day
    fr = graphic(client.get("/embed/timeline?country=UKR&lang=fr").text)
    assert '<desc id="graphic-desc">De 1999 à 2024' in fr


def test_a_fuzzy_date_is_drawn_as_a_span(store: Store) -> None:
    dates = {"fra-month": "2023-08", "fra-year": "2021", "fra-day": "2022-06-23"}
    import_lines(
        store,
        [
            line(
                "recordDecision",
                id=i,
                actor="FRA",
                action="DELIVER",
                decidedOn=d,
                headline=i,
                sources=SOURCE,
            )
            for i, d in dates.items()
        ],
    )
    svg = graphic(Client(store).get("/embed/timeline?country=FRA").text)
    marks = dict(re.findall(r'<a href="#([^"]+)"[^>]*>(.*?)</a>', svg))
    assert '<rect class="span"' in marks["fra-month"] and '<rect class="span"' in marks["fra-year"]
    assert "<rect" not in marks["fra-day"]
    year = re.search(r'width="([\d.]+)%"', marks["fra-year"])
    month = re.search(r'width="([\d.]+)%"', marks["fra-month"])
    assert year is not None and month is not None
    assert float(year.group(1)) > 10 * float(month.group(1))  # a year is twelve months wide


def test_a_reported_decision_an_exception_an_archive_and_an_estimate_say_so(
    store: Store,
) -> None:
    archived = {
        "publisher": "Wire Service",
        "url": "https://wire.example/story",
        "archiveUrl": "https://archive.example/wire.example/story",
    }
    import_lines(
        store,
        [
            line(
                "recordDecision",
                id="fra-policy",
                actor="FRA",
                action="ADOPT_POLICY",
                decidedOn="2020-01-10",
                headline="policy",
                sources=SOURCE,
            ),
            line(
                "recordDecision",
                id="fra-exception",
                actor="FRA",
                action="DELIVER",
                reportedOn="2021-03",
                certainty="REPORTED",
                departsFrom="fra-policy",
                headline="exception",
                sources=[archived],
            ),
            line(
                "recordObservation",
                id="fra-estimate",
                indicator="landmine-casualties",
                scope="FRA",
                period="2021",
                value=12,
                basis="ESTIMATE",
                note="including improvised mines",
                sources=SOURCE,
            ),
        ],
    )
    html = Client(store).get("/embed/timeline?country=FRA").text
    exception = article(html, "fra-exception")
    assert "Reported by others, not announced by the deciding side" in exception
    assert '<dt>Reported</dt><dd><time datetime="2021-03">March 2021</time>' in exception
    assert 'Makes an exception to: <a href="#fra-policy">' in exception
    assert 'Exception made by: <a href="#fra-exception">' in article(html, "fra-policy")
    assert '<a href="https://archive.example/wire.example/story"' in exception
    assert "archived copy" in exception
    figures = html[html.index('<section class="figures"') :]
    assert "<strong>estimate</strong>" in figures and "including improvised mines" in figures


def test_recorded_translations_are_shown_in_the_readers_language_and_marked_when_stale(
    store: Store,
) -> None:
    client = seeded(store)
    translations = [
        line(
            "translateRecord",
            id="fr-apl",
            kind="DECISION",
            record=APL,
            lang="fr",
            headline="Biden autorise des mines antipersonnel pour l’Ukraine",
            sources=SOURCE,
        ),
        line(
            "translateRecord",
            id="fr-atacms",
            kind="DECISION",
            record=ATACMS,
            lang="fr",
            scope="frappes à l’intérieur de la Russie",
            sources=SOURCE,
        ),
        line(
            "translateRecord",
            id="fr-ottawa",
            kind="TREATY",
            record="ottawa-convention",
            lang="fr",
            shortName="Convention d’Ottawa",
            sources=SOURCE,
        ),
    ]
    import_lines(store, translations)
    page = client.get("/embed/timeline?country=UKR&lang=fr").text
    fr = article(page, APL)
    assert "<bdi>Biden autorise des mines antipersonnel pour l’Ukraine</bdi>" in fr
    assert "<dd><bdi>frappes à l’intérieur de la Russie</bdi></dd>" in article(page, ATACMS)
    assert '<p class="summary"><bdi lang="en">US Defense Secretary' in fr  # not translated
    assert "En conflit avec un traité\u202f: <bdi>Convention d’Ottawa</bdi>" in fr
    assert "Traduit avant" not in fr
    uk = article(client.get("/embed/timeline?country=UKR&lang=uk").text, APL)
    assert '<bdi lang="en">Biden authorizes antipersonnel mines for Ukraine</bdi>' in uk
    import_lines(
        store,
        [
            line(
                "correctDecision",
                id=APL,
                changes={"headline": "Biden authorizes antipersonnel landmines for Ukraine"},
                reason="wording",
                sources=SOURCE,
            )
        ],
    )
    fr = article(client.get("/embed/timeline?country=UKR&lang=fr").text, APL)
    assert "Traduit avant une correction de l’original\u202f: titre" in fr


def test_translated_figures_and_quotes_read_in_the_readers_language(store: Store) -> None:
    client = seeded(store)
    editors = [{"publisher": "Policy Timeline editors"}]
    report = import_lines(
        store,
        [
            line(
                "translateRecord",
                id="uk-lm-ukr",
                kind="OBSERVATION",
                record="lm2024-casualties-ukr-2023",
                lang="uk",
                unit="осіб",
                sources=editors,
            ),
            line(
                "translateRecord",
                id="uk-hi-quote",
                kind="STATEMENT",
                record="hi-de-faramond-2024-11-21-civilian-victims",
                lang="uk",
                quote="Головними жертвами цієї зброї стануть цивільні українці",
                sources=editors,
            ),
        ],
    )
    assert not report.errors
    html = client.get("/embed/timeline?country=UKR&lang=uk").text
    figures = html[html.index('<section class="figures"') :]
    label = '<bdi lang="en">Casualties of mines and explosive remnants of war</bdi>'
    assert f"{label}, 2023: 580 <bdi>осіб</bdi>" in figures
    apl = article(html, APL)
    assert "<p><bdi>Ukrainian civilians will be the primary victims" in apl  # the words said
    assert "Переклад: <bdi>Головними жертвами цієї зброї стануть цивільні українці</bdi>" in apl
    fr = client.get("/embed/timeline?country=UKR&lang=fr").text
    assert label in fr and "Traduction" not in fr


def test_a_decision_with_many_reactions_shows_ten_and_counts_the_rest(store: Store) -> None:
    client = seeded(store)
    report = import_lines(
        store,
        [
            line(
                "recordStatement",
                id=f"voice-{i}",
                by={"name": f"Voice {i}", "kind": "ORGANIZATION"},
                about=APL,
                stance="CONCERNED",
                quote=f"quote {i}",
                sources=SOURCE,
            )
            for i in range(12)
        ],
    )
    assert not report.errors
    apl = article(client.get("/embed/timeline?country=UKR").text, APL)
    assert apl.count("<figure>") == 10
    # The seed story records nine reactions to this decision: 21 in all.
    assert "11 more reactions are in the record." in apl
    uk = article(client.get("/embed/timeline?country=UKR&lang=uk").text, APL)
    assert "Ще 11 реакцій є в записі." in uk
