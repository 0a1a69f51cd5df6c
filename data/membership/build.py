"""Turn the UN Treaty Collection status tables in data/reference/ into data/membership.jsonl,
and the French and Ukrainian headlines and summaries of its decisions into
data/membership.translations.jsonl (one template per act and language, filled with the facts the
English summary states, dates through CLDR's patterns).

Run `make data` (or `.venv/bin/python data/membership/build.py`) after editing a reference file;
the output is deterministic for a given Babel (its CLDR version) and a test fails when a
committed file is out of date."""
# ruff: noqa: RUF001, RUF002, RUF003 -- French and Ukrainian text uses its own letters and apostrophes

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
from babel.dates import format_date

DATA = Path(__file__).resolve().parent.parent
REFERENCE = DATA / "reference"
SEED = DATA / "seed.jsonl"
OUTPUT = DATA / "membership.jsonl"
TRANSLATIONS = DATA / "membership.translations.jsonl"
STATUS_DATE = "2026-02-03"
LOCALES = {"fr": "fr_FR", "uk": "uk_UA"}


@dataclass(frozen=True)
class Treaty:
    """One treaty's status table and how its acts are named."""

    id: str
    csv: str
    slug: str  # the ids' suffix, as the seed names the Mine Ban Treaty's acts
    name: str  # as a headline names it
    chapter: str  # UNTC MTDSG chapter number
    first_wave: str  # article 17(1): the last day of deposit counted before entry into force
    count: int  # article 17(1): the instrument whose deposit that day completed the count
    fr: str  # the treaty in French running text, after "de la" / "à la"
    uk: str  # the treaty in Ukrainian, genitive (after "підписання", "до", "з")


TREATIES = [
    Treaty(
        "ottawa-convention",
        "ottawa.csv",
        "ottawa",
        "the Mine Ban Treaty",
        "XXVI-5",
        "1998-09-16",
        40,
        "convention d’Ottawa",
        "Оттавської конвенції",
    ),
    Treaty(
        "cluster-munition-convention",
        "ccm.csv",
        "ccm",
        "the Convention on Cluster Munitions",
        "XXVI-6",
        "2010-02-16",
        30,
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
    # consent_kind -> (action, the words of a headline); a kind recorded as another action has
    # a sentence of its own in every language's summary ("mapped" in SUMMARIES)
    "ratification": ("RATIFY", "ratifies"),
    "acceptance": ("RATIFY", "accepts"),
    "approval": ("RATIFY", "approves"),
    "accession": ("ACCEDE", "accedes to"),
    "succession": ("ACCEDE", "succeeds to"),
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


def long_date(day: str, lang: str) -> str:
    """A day as CLDR's long pattern writes it in `lang`: '1er mars 2003', '1 березня 2003 р.'."""
    d = dt.date.fromisoformat(day)
    pattern = str(Locale.parse(LOCALES[lang]).date_formats["long"].pattern)
    if lang == "fr" and d.day == 1:  # French writes the first of the month "1er mars"
        pattern = pattern.replace("d ", "d'er' ", 1)
    return format_date(d, pattern, locale=LOCALES[lang])


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


def in_force(row: dict[str, str]) -> dict[str, Any]:
    """How the row's entry-into-force date was obtained: the facts a summary states of it."""
    note = row["note"]
    rule = "17(1)" if "17(1)" in note else "17(2)"
    return {
        "in_force": row["entry_into_force_on"],
        "rule": "source" if "EIF read from source" in note else rule,
        "confirmed": "confirmed by a source" in note,
    }


def decision(fields: dict[str, Any]) -> dict[str, Any]:
    return {"op": "recordDecision", "input": fields}


# Summaries, one template per sentence and language, filled with the same facts: the act's
# instrument and date, how the entry into force was obtained, the withdrawal's effect. French and
# Ukrainian say "this state" where English names it, so no article (French) and no case (Ukrainian)
# is asked of a country name; the terms are those of the seed's translations and of the UN's
# French and Ukraine's official texts of the treaties.
SUMMARIES: dict[str, dict[str, Any]] = {
    "en": {
        "SIGN": "Signature listed in the UN Treaty Collection status as at {status}.",
        "bracketed": "UNTC brackets it: the state is no longer a party.",
        "deposited": {
            kind: f"Instrument of {kind} deposited with the UN Secretary-General on {{deposited}}."
            for kind in KINDS
        },
        "mapped": {
            "acceptance": "Acceptance binds a state as ratification does: recorded as a "
            "ratification.",
            "approval": "Approval binds a state as ratification does: recorded as a ratification.",
            "succession": "The record has no succession action: recorded as an accession.",
        },
        "read": "In force for {state} from {in_force}, as the sources cited state it (not the "
        "date article 17 would give).",
        "derived": "In force for {state} from {in_force}: {rule}{check}.",
        "17(1)": "derived from article 17(1) (instrument deposited on or before {first_wave}, "
        "the day of the {count}th instrument)",
        "17(2)": "derived from article 17(2) (the first day of the sixth month after the month "
        "of deposit)",
        "confirmed": ", and confirmed by a source",
        "unconfirmed": ", not read from a source",
        "NOTIFY_WITHDRAWAL": "Notification of withdrawal deposited with the UN Secretary-General "
        "on {deposited}.",
        "took effect": "The withdrawal took effect on {effective} under article 20(3).",
        "prospective": "The status as at {status} says the withdrawal will take effect on "
        "{effective} under article 20(3), subject to the condition that paragraph sets: a date "
        "still to come on that day.",
    },
    "fr": {
        "SIGN": "Signature inscrite à la Collection des traités des Nations unies, dans son état "
        "au {status}.",
        "bracketed": "La Collection des traités la place entre crochets\u202f: l’État n’est plus "
        "partie.",
        "deposited": {
            "ratification": "Instrument de ratification déposé auprès du Secrétaire général de "
            "l’ONU le {deposited}.",
            "acceptance": "Instrument d’acceptation déposé auprès du Secrétaire général de l’ONU "
            "le {deposited}.",
            "approval": "Instrument d’approbation déposé auprès du Secrétaire général de l’ONU "
            "le {deposited}.",
            "accession": "Instrument d’adhésion déposé auprès du Secrétaire général de l’ONU le "
            "{deposited}.",
            "succession": "Instrument de succession déposé auprès du Secrétaire général de l’ONU "
            "le {deposited}.",
        },
        "mapped": {
            "acceptance": "L’acceptation engage un État comme la ratification\u202f: elle est "
            "enregistrée comme une ratification.",
            "approval": "L’approbation engage un État comme la ratification\u202f: elle est "
            "enregistrée comme une ratification.",
            "succession": "Le registre ne prévoit pas d’action de succession\u202f: elle est "
            "enregistrée comme une adhésion.",
        },
        "read": "En vigueur pour cet État à compter du {in_force}, selon les sources citées (et "
        "non à la date que donnerait l’article 17).",
        "derived": "En vigueur pour cet État à compter du {in_force}\u202f: {rule}{check}.",
        "17(1)": "date calculée selon l’article 17, paragraphe 1 (instrument déposé au plus tard "
        "le {first_wave}, jour du dépôt du {count}e instrument)",
        "17(2)": "date calculée selon l’article 17, paragraphe 2 (le premier jour du sixième mois "
        "suivant le mois du dépôt)",
        "confirmed": ", et confirmée par une source",
        "unconfirmed": ", et non lue dans une source",
        "NOTIFY_WITHDRAWAL": "Notification de retrait déposée auprès du Secrétaire général de "
        "l’ONU le {deposited}.",
        "took effect": "Le retrait a pris effet le {effective} en vertu de l’article 20, "
        "paragraphe 3.",
        "prospective": "Selon l’état au {status}, le retrait prendra effet le {effective} en "
        "vertu de l’article 20, paragraphe 3, sous réserve de la condition que fixe ce "
        "paragraphe\u202f: une date encore à venir ce jour-là.",
    },
    "uk": {
        "SIGN": "Підписання зазначено в Збірці договорів ООН станом на {status}.",
        "bracketed": "Збірка договорів ООН бере його в квадратні дужки: держава вже не є "
        "стороною конвенції.",
        "deposited": {
            "ratification": "Ратифікаційну грамоту здано на зберігання Генеральному секретареві "
            "ООН {deposited}.",
            "acceptance": "Документ про прийняття здано на зберігання Генеральному секретареві "
            "ООН {deposited}.",
            "approval": "Документ про затвердження здано на зберігання Генеральному секретареві "
            "ООН {deposited}.",
            "accession": "Документ про приєднання здано на зберігання Генеральному секретареві "
            "ООН {deposited}.",
            "succession": "Документ про правонаступництво здано на зберігання Генеральному "
            "секретареві ООН {deposited}.",
        },
        "mapped": {
            "acceptance": "Прийняття зобов’язує державу так само, як ратифікація: його записано "
            "як ратифікацію.",
            "approval": "Затвердження зобов’язує державу так само, як ратифікація: його записано "
            "як ратифікацію.",
            "succession": "У реєстрі немає дії «правонаступництво»: його записано як приєднання.",
        },
        "read": "Для цієї держави конвенція чинна з {in_force}, як зазначають наведені джерела "
        "(а не з дати, яку дала б стаття 17).",
        "derived": "Для цієї держави конвенція чинна з {in_force}: {rule}{check}.",
        "17(1)": "дату обчислено за пунктом 1 статті 17 (документ здано на зберігання не пізніше "
        "{first_wave} — дня, коли було здано {count}-й документ)",
        "17(2)": "дату обчислено за пунктом 2 статті 17 (перший день шостого місяця після місяця "
        "здачі на зберігання)",
        "confirmed": " і підтверджено джерелом",  # no comma before a lone "і"
        "unconfirmed": ", а не взято з джерела",
        "NOTIFY_WITHDRAWAL": "Повідомлення про вихід здано на зберігання Генеральному "
        "секретареві ООН {deposited}.",
        "took effect": "Вихід набрав чинності {effective} відповідно до пункту 3 статті 20.",
        "prospective": "У статусі договору станом на {status} зазначено, що вихід набере "
        "чинності {effective} відповідно до пункту 3 статті 20 за умови, встановленої цим "
        "пунктом: на той день ця дата ще не настала.",
    },
}


def summary(lang: str, treaty: Treaty, state: str, facts: dict[str, Any]) -> str:
    """The summary of one act in `lang`: the sentences its facts call for, dates in that
    language (the English state's name is only used by the English text)."""
    text = SUMMARIES[lang]
    day = words if lang == "en" else lambda d: long_date(d, lang)
    values = {
        "state": state,
        "status": day(STATUS_DATE),
        "first_wave": day(treaty.first_wave),
        "count": treaty.count,
        **{k: day(facts[k]) for k in ("deposited", "in_force", "effective") if k in facts},
    }
    act = facts["act"]
    if act == "SIGN":
        sentences = [text["SIGN"]] + ([text["bracketed"]] if facts["bracketed"] else [])
    elif act == "NOTIFY_WITHDRAWAL":
        effect = "prospective" if facts["prospective"] else "took effect"
        sentences = [text["NOTIFY_WITHDRAWAL"], text[effect]]
    else:
        sentences = [text["deposited"][act]]
        if act in text["mapped"]:
            sentences.append(text["mapped"][act])
        if facts["rule"] == "source":
            sentences.append(text["read"])
        else:
            values["rule"] = text[facts["rule"]].format(**values)
            values["check"] = text["confirmed" if facts["confirmed"] else "unconfirmed"]
            sentences.append(text["derived"])
    # A sentence ending on an abbreviated date ("2003 р.") takes no second full stop.
    return " ".join(s.format(**values).replace("р..", "р.") for s in sentences)


def row_acts(
    treaty: Treaty, row: dict[str, str], seeded: set[tuple[str, str, str]]
) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """The depositary acts of one state, minus those the seed story already records: each as
    what the table calls it ("SIGN", its consent kind, "NOTIFY_WITHDRAWAL"), its fields and the
    facts its summary states (the same in every language)."""
    iso, state = row["iso3"], row["state"]
    url, extra = split_sources(row["source"])
    ops = []
    if row["signed_on"]:
        facts: dict[str, Any] = {"act": "SIGN", "bracketed": "brackets" in row["note"]}
        ops.append(
            (
                "SIGN",
                row["signed_on"],
                {
                    "id": f"{iso.lower()}-{row['signed_on']}-sign-{treaty.slug}",
                    "actor": iso,
                    "action": "SIGN",
                    "treaty": treaty.id,
                    "decidedOn": row["signed_on"],
                    "headline": f"{state} signs {treaty.name}",
                    "summary": summary("en", treaty, state, facts),
                    "sources": [untc(treaty, url)],
                },
                facts,
            )
        )
    if row["consent_on"]:
        kind = row["consent_kind"]
        action, verb = KINDS[kind]
        facts = {"act": kind, "deposited": row["consent_on"], **in_force(row)}
        ops.append(
            (
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
                    "summary": summary("en", treaty, state, facts),
                    "sources": [untc(treaty, url)] + [cited(u) for u in extra["consent"]],
                },
                facts,
            )
        )
    if row["withdrawal_notified_on"]:
        off, notified = row["withdrawal_effective_on"], row["withdrawal_notified_on"]
        facts = {
            "act": "NOTIFY_WITHDRAWAL",
            "deposited": notified,
            "effective": off,
            "prospective": "PROSPECTIVE" in row["note"],
        }
        ops.append(
            (
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
                    "summary": summary("en", treaty, state, facts),
                    "sources": [untc(treaty, url)] + [cited(u) for u in extra["withdrawal"]],
                },
                facts,
            )
        )
    return [
        (facts["act"], fields, facts)
        for action, day, fields, facts in ops
        if (iso, action, day) not in seeded
    ]


def row_ops(treaty: Treaty, row: dict[str, str], seeded: set[tuple[str, str, str]]) -> list[Any]:
    return [decision(fields) for _, fields, _ in row_acts(treaty, row, seeded)]


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
    """Who wrote the text: templates of this script, the state's name from CLDR (or the editors
    where CLDR names a territory rather than the state party), dates through CLDR's patterns.
    No fact is added."""
    how = (
        f"{LANGUAGE[lang]} headline and summary generated from templates by "
        "data/membership/build.py: the English text's facts in a news desk's terms"
    )
    cldr = get_cldr_version()
    if from_cldr:
        author = {"publisher": "Policy Timeline", "title": how + ", the state's name from CLDR"}
        used = "Territory names and date patterns"
    else:
        author = {
            "publisher": "Policy Timeline editors",
            "title": how + ", the state's name as the editors give it",
        }
        used = "Date patterns"
    return [
        author,
        {
            "publisher": "Unicode CLDR",
            "title": f"{used}, CLDR {cldr}, as Babel ships them",
            "url": "https://cldr.unicode.org/",
        },
    ]


def build_translations() -> str:
    """French and Ukrainian headlines and summaries of every act build() writes from the tables
    (the national acts are translated by the editors in data/seed.translations.jsonl)."""
    seeded = seeded_acts()
    ops: list[Any] = []
    for treaty in TREATIES:
        for row in rows(treaty):
            for what, fields, facts in row_acts(treaty, row, seeded.get(treaty.id, set())):
                for lang in LANGUAGE:
                    text, from_cldr = headline(what, treaty, row["iso3"], lang)
                    translation = {
                        "id": f"{lang}-{fields['id']}",
                        "kind": "DECISION",
                        "record": fields["id"],
                        "lang": lang,
                        "headline": text,
                        "summary": summary(lang, treaty, row["state"], facts),
                        "sources": translation_sources(lang, from_cldr),
                    }
                    ops.append({"op": "translateRecord", "input": translation})
    return lines(ops)


if __name__ == "__main__":
    for path, text in ((OUTPUT, build()), (TRANSLATIONS, build_translations())):
        path.write_text(text, encoding="utf-8")
        sys.stdout.write(f"{path.name}: {len(text.splitlines())} operations\n")
