"""Turn the UN Treaty Collection status tables in data/reference/ into data/membership.jsonl,
and the French and Ukrainian headlines of its decisions into data/membership.translations.jsonl.

Run `make data` (or `.venv/bin/python data/membership/build.py`) after editing a reference file;
the output is deterministic for a given Babel (its CLDR version) and a test fails when a
committed file is out of date."""
# ruff: noqa: RUF001 -- French and Ukrainian text uses its own apostrophes

from __future__ import annotations

import csv
import datetime as dt
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pycountry
from babel import Locale
from babel.core import get_cldr_version

DATA = Path(__file__).resolve().parent.parent
REFERENCE = DATA / "reference"
SEED = DATA / "seed.jsonl"
OUTPUT = DATA / "membership.jsonl"
TRANSLATIONS = DATA / "membership.translations.jsonl"
STATUS_DATE = "2026-02-03"


@dataclass(frozen=True)
class Treaty:
    """One treaty's status table and how its acts are named."""

    id: str
    csv: str
    slug: str  # the ids' suffix, as the seed names the Mine Ban Treaty's acts
    name: str  # as a headline names it
    chapter: str  # UNTC MTDSG chapter number
    first_wave: str  # article 17(1): the deposits counted before entry into force
    fr: str  # the treaty in French running text, after "de la" / "à la"
    uk: str  # the treaty in Ukrainian, genitive (after "підписання", "до", "з")


TREATIES = [
    Treaty(
        "ottawa-convention",
        "ottawa.csv",
        "ottawa",
        "the Mine Ban Treaty",
        "XXVI-5",
        "deposited on or before 16 September 1998, the day of the 40th instrument",
        "convention d’Ottawa",
        "Оттавської конвенції",
    ),
    Treaty(
        "cluster-munition-convention",
        "ccm.csv",
        "ccm",
        "the Convention on Cluster Munitions",
        "XXVI-6",
        "deposited on or before 16 February 2010, the day of the 30th instrument",
        "convention sur les armes à sous-munitions",
        "Конвенції про касетні боєприпаси",
    ),
]
PUBLISHERS = {
    "treaties.un.org": "United Nations Treaty Collection",
    "the-monitor.org": "Landmine and Cluster Munition Monitor",
    "apminebanconvention.org": "Anti-Personnel Mine Ban Convention Implementation Support Unit",
    "clusterconvention.org": "Convention on Cluster Munitions",
    "icblcmc.org": "ICBL-CMC",
    "un.org": "United Nations",
    "um.fi": "Ministry for Foreign Affairs of Finland",
    "matangitonga.to": "Matangi Tonga",
    "maginternational.org": "MAG",
    "tass.com": "TASS",
    "ukrinform.net": "Ukrinform",
    "commons.lib.jmu.edu": "Journal of Mine Action",
}
KINDS = {
    # consent_kind -> (action, the words of a headline, what the summary says of the mapping)
    "ratification": ("RATIFY", "ratifies", ""),
    "acceptance": (
        "RATIFY",
        "accepts",
        " Acceptance binds a state as ratification does: recorded as a ratification.",
    ),
    "approval": (
        "RATIFY",
        "approves",
        " Approval binds a state as ratification does: recorded as a ratification.",
    ),
    "accession": ("ACCEDE", "accedes to", ""),
    "succession": (
        "ACCEDE",
        "succeeds to",
        " The record has no succession action: recorded as an accession.",
    ),
}
UKRAINE = [
    # National acts: what the press reported, not acts at the depositary (S12 in SOURCES.md).
    {
        "id": "ukr-2025-06-29-decree-withdraw-ottawa",
        "actor": "UKR",
        "action": "ANNOUNCE_WITHDRAWAL",
        "treaty": "ottawa-convention",
        "decidedOn": "2025-06-29",
        "certainty": "REPORTED",
        "headline": "Ukraine decrees its withdrawal from the Mine Ban Treaty",
        "summary": "Presidential Decree No. 441/2025 of 29 June 2025 enacted a decision of the "
        "National Security and Defence Council to withdraw from the Convention, as reported "
        "in the press. A national act: the UN Treaty Collection, status as at 3 February "
        "2026, records no notification of withdrawal by Ukraine, so Ukraine remains a party.",
        "urls": [
            "https://uanews.net/en/post/107917-ukraine-officially-exits-ottawa-convention-on-"
            "anti-personnel-mines"
        ],
    },
    {
        "id": "ukr-2025-07-15-law-suspend-ottawa",
        "actor": "UKR",
        "action": "SUSPEND",
        "treaty": "ottawa-convention",
        "decidedOn": "2025-07-15",
        "certainty": "REPORTED",
        "headline": "Ukraine's parliament adopts a law described as suspending the Mine Ban Treaty",
        "summary": "On 15 July 2025 the Verkhovna Rada adopted a law described as suspending the "
        "Convention for Ukraine until the end of Russian aggression, signed by the President "
        "the same day, as reported in the press. A national act: the UN Treaty Collection, "
        "status as at 3 February 2026, records no suspension or withdrawal notified by "
        "Ukraine, so Ukraine remains a party.",
        "urls": [
            "https://babel.ua/en/news/119711-ukraine-will-suspend-participation-in-the-"
            "convention-on-the-prohibition-of-anti-personnel-mines-the-verkhovna-rada-adopted-a-"
            "decision",
            "https://tass.com/world/1989815",
        ],
    },
]


def words(day: str) -> str:
    """'3 February 2026' for 2026-02-03."""
    d = dt.date.fromisoformat(day)
    return f"{d.day} {d:%B} {d.year}"


def untc(treaty: Treaty, url: str) -> dict[str, Any]:
    """The UNTC status page as a source, with the date its status is given at."""
    return {
        "publisher": PUBLISHERS["treaties.un.org"],
        "title": f"Status of treaties, chapter {treaty.chapter}, as at {words(STATUS_DATE)}",
        "url": url,
        "publishedOn": STATUS_DATE,
    }


def cited(url: str) -> dict[str, Any]:
    """Another source the reference table cites, named after its site."""
    host = urlparse(url).netloc.removeprefix("www.").removeprefix("archives2.")
    return {"publisher": PUBLISHERS.get(host, host), "url": url}


def split_sources(text: str) -> tuple[str, dict[str, list[str]]]:
    """The UNTC address of a row, and its other addresses by what they support."""
    untc_url, *rest = text.split(" ; ")
    found: dict[str, list[str]] = {"consent": [], "withdrawal": []}
    topic = "consent"
    for part in rest:
        label = re.match(r"([A-Za-z][^:]*?):\s", part)
        if label:
            topic = "withdrawal" if label.group(1).startswith("withdrawal") else "consent"
        found[topic] += re.findall(r"https?://\S+", part)
    return re.findall(r"https?://\S+", untc_url)[0], found


def in_force(treaty: Treaty, row: dict[str, str]) -> str:
    """How the row's entry-into-force date was obtained, in the words of a summary."""
    note, day = row["note"], words(row["entry_into_force_on"])
    if "EIF read from source" in note:
        return (
            f"In force for {row['state']} from {day}, as the sources cited state it (not "
            "the date article 17 would give)."
        )
    if "17(1)" in note:
        rule = f"derived from article 17(1) (instrument {treaty.first_wave})"
    else:
        rule = (
            "derived from article 17(2) (the first day of the sixth month after the month of "
            "deposit)"
        )
    if "confirmed by a source" in note:
        return f"In force for {row['state']} from {day}: {rule}, and confirmed by a source."
    return f"In force for {row['state']} from {day}: {rule}, not read from a source."


def decision(fields: dict[str, Any]) -> dict[str, Any]:
    return {"op": "recordDecision", "input": fields}


def row_acts(
    treaty: Treaty, row: dict[str, str], seeded: set[tuple[str, str, str]]
) -> list[tuple[str, dict[str, Any]]]:
    """The depositary acts of one state, minus those the seed story already records: each as
    what the table calls it ("SIGN", its consent kind, "NOTIFY_WITHDRAWAL") and its fields."""
    iso, state = row["iso3"], row["state"]
    url, extra = split_sources(row["source"])
    bracketed = "brackets" in row["note"]
    ops = []
    if row["signed_on"]:
        summary = f"Signature listed in the UN Treaty Collection status as at {words(STATUS_DATE)}."
        if bracketed:
            summary += " UNTC brackets it: the state is no longer a party."
        ops.append(
            (
                "SIGN",
                "SIGN",
                row["signed_on"],
                {
                    "id": f"{iso.lower()}-{row['signed_on']}-sign-{treaty.slug}",
                    "actor": iso,
                    "action": "SIGN",
                    "treaty": treaty.id,
                    "decidedOn": row["signed_on"],
                    "headline": f"{state} signs {treaty.name}",
                    "summary": summary,
                    "sources": [untc(treaty, url)],
                },
            )
        )
    if row["consent_on"]:
        action, verb, mapping = KINDS[row["consent_kind"]]
        kind = row["consent_kind"]
        summary = (
            f"Instrument of {kind} deposited with the UN Secretary-General on "
            f"{words(row['consent_on'])}.{mapping} {in_force(treaty, row)}"
        )
        ops.append(
            (
                kind,
                action,
                row["consent_on"],
                {
                    "id": f"{iso.lower()}-{row['consent_on']}-{action.lower()}-{treaty.slug}",
                    "actor": iso,
                    "action": action,
                    "treaty": treaty.id,
                    "decidedOn": row["consent_on"],
                    "effectiveOn": row["entry_into_force_on"],
                    "headline": f"{state} {verb} {treaty.name}",
                    "summary": summary,
                    "sources": [untc(treaty, url)] + [cited(u) for u in extra["consent"]],
                },
            )
        )
    if row["withdrawal_notified_on"]:
        off, notified = row["withdrawal_effective_on"], row["withdrawal_notified_on"]
        if "PROSPECTIVE" in row["note"]:
            effect = (
                f"The status as at {words(STATUS_DATE)} says the withdrawal will take effect "
                f"on {words(off)} under article 20(3), subject to the condition that "
                "paragraph sets: a date still to come on that day."
            )
        else:
            effect = f"The withdrawal took effect on {words(off)} under article 20(3)."
        ops.append(
            (
                "NOTIFY_WITHDRAWAL",
                "NOTIFY_WITHDRAWAL",
                notified,
                {
                    "id": f"{iso.lower()}-{notified}-notify-withdrawal-{treaty.slug}",
                    "actor": iso,
                    "action": "NOTIFY_WITHDRAWAL",
                    "treaty": treaty.id,
                    "decidedOn": notified,
                    "effectiveOn": off,
                    "headline": f"{state} notifies its withdrawal from {treaty.name}",
                    "summary": "Notification of withdrawal deposited with the UN "
                    f"Secretary-General on {words(notified)}. {effect}",
                    "sources": [untc(treaty, url)] + [cited(u) for u in extra["withdrawal"]],
                },
            )
        )
    return [(what, fields) for what, action, day, fields in ops if (iso, action, day) not in seeded]


def row_ops(treaty: Treaty, row: dict[str, str], seeded: set[tuple[str, str, str]]) -> list[Any]:
    return [decision(fields) for _, fields in row_acts(treaty, row, seeded)]


def seeded_acts() -> dict[str, set[tuple[str, str, str]]]:
    """(actor, action, date) of each treaty act the seed story records, per treaty."""
    found: dict[str, set[tuple[str, str, str]]] = {}
    for text in SEED.read_text(encoding="utf-8").splitlines():
        op = json.loads(text)
        fields = op["input"]
        if op["op"] == "recordDecision" and fields.get("treaty") and fields.get("decidedOn"):
            key = (fields["actor"], fields["action"], fields["decidedOn"])
            found.setdefault(fields["treaty"], set()).add(key)
    return found


def national_acts() -> list[Any]:
    ottawa_url = split_sources(next(rows(TREATIES[0]))["source"])[0]
    out = []
    for act in UKRAINE:
        fields = {k: v for k, v in act.items() if k != "urls"}
        sources = [cited(u) for u in act["urls"]] + [untc(TREATIES[0], ottawa_url)]
        out.append(decision({**fields, "sources": sources}))
    return out


def rows(treaty: Treaty) -> Any:
    with (REFERENCE / treaty.csv).open(encoding="utf-8", newline="") as handle:
        yield from csv.DictReader(handle)


def lines(ops: list[Any]) -> str:
    return "".join(json.dumps(op, ensure_ascii=False, sort_keys=True) + "\n" for op in ops)


def build() -> str:
    """The whole import file, one operation a line."""
    seeded = seeded_acts()
    ops: list[Any] = []
    for treaty in TREATIES:
        for row in rows(treaty):
            ops += row_ops(treaty, row, seeded.get(treaty.id, set()))
    ops += national_acts()
    return lines(ops)


# Headlines in French and Ukrainian, as labels ("State: act of the treaty"): the country name
# stands alone before the colon, so it needs no article (French) and no case it cannot take
# (Ukrainian). The acts in the terms the UN's French texts and Ukraine's translation of the
# Vienna Convention on the Law of Treaties use; the treaties as the seed's translations name them.
HEADLINES = {
    "fr": {
        "SIGN": "signature de la {treaty}",
        "ratification": "ratification de la {treaty}",
        "acceptance": "acceptation de la {treaty}",
        "approval": "approbation de la {treaty}",
        "accession": "adhésion à la {treaty}",
        "succession": "succession à la {treaty}",
        "NOTIFY_WITHDRAWAL": "notification de retrait de la {treaty}",
    },
    "uk": {
        "SIGN": "підписання {treaty}",
        "ratification": "ратифікація {treaty}",
        "acceptance": "прийняття {treaty}",
        "approval": "затвердження {treaty}",
        "accession": "приєднання до {treaty}",
        "succession": "правонаступництво щодо {treaty}",
        "NOTIFY_WITHDRAWAL": "повідомлення про вихід {from_} {treaty}",
    },
}
COLON = {"fr": "\u202f: ", "uk": ": "}  # French sets a narrow no-break space before a colon
LANGUAGE = {"fr": "French", "uk": "Ukrainian"}
STATE_NAMES = {
    # CLDR names a territory; for these two the party to a treaty is another entity.
    "VAT": {"fr": "Saint-Siège", "uk": "Святий Престол"},  # the Holy See, not Vatican City
    "PSE": {"fr": "État de Palestine", "uk": "Держава Палестина"},  # not "Palestinian Territories"
}
VOWELS = set("аеєиіїоуюяАЕЄИІЇОУЮЯ")


def state_name(iso3: str, lang: str) -> tuple[str, bool]:
    """The state's name in `lang`, and whether it is CLDR's territory name."""
    if iso3 in STATE_NAMES:
        return STATE_NAMES[iso3][lang], False
    country = pycountry.countries.get(alpha_3=iso3)
    return str(Locale(lang).territories[country.alpha_2]), True


def headline(what: str, treaty: Treaty, iso3: str, lang: str) -> tuple[str, bool]:
    name, from_cldr = state_name(iso3, lang)
    treaty_name = getattr(treaty, lang)
    # Ukrainian euphony: "з" before a vowel, "із" between consonants.
    from_ = "з" if treaty_name[0] in VOWELS else "із"
    act = HEADLINES[lang][what].format(treaty=treaty_name, from_=from_)
    return name + COLON[lang] + act, from_cldr


def translation_sources(lang: str, from_cldr: bool) -> list[dict[str, Any]]:
    """Who wrote the text: a template of this script, the state's name from CLDR (or the
    editors where CLDR names a territory rather than the state party). No fact is added."""
    how = (
        f"{LANGUAGE[lang]} headline generated from a template by data/membership/build.py: "
        "the English headline's act and treaty in a news desk's terms"
    )
    if not from_cldr:
        return [
            {
                "publisher": "Policy Timeline editors",
                "title": how + ", the state's name as the editors give it",
            }
        ]
    cldr = get_cldr_version()
    return [
        {"publisher": "Policy Timeline", "title": how + ", the state's name from CLDR"},
        {
            "publisher": "Unicode CLDR",
            "title": f"Territory names, CLDR {cldr}, as Babel ships them",
            "url": "https://cldr.unicode.org/",
        },
    ]


def build_translations() -> str:
    """French and Ukrainian headlines of every act build() writes from the tables (the national
    acts are translated by the editors in data/seed.translations.jsonl)."""
    seeded = seeded_acts()
    ops: list[Any] = []
    for treaty in TREATIES:
        for row in rows(treaty):
            for what, fields in row_acts(treaty, row, seeded.get(treaty.id, set())):
                for lang in LANGUAGE:
                    text, from_cldr = headline(what, treaty, row["iso3"], lang)
                    translation = {
                        "id": f"{lang}-{fields['id']}",
                        "kind": "DECISION",
                        "record": fields["id"],
                        "lang": lang,
                        "headline": text,
                        "sources": translation_sources(lang, from_cldr),
                    }
                    ops.append({"op": "translateRecord", "input": translation})
    return lines(ops)


if __name__ == "__main__":
    for path, text in ((OUTPUT, build()), (TRANSLATIONS, build_translations())):
        path.write_text(text, encoding="utf-8")
        sys.stdout.write(f"{path.name}: {len(text.splitlines())} operations\n")
