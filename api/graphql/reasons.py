"""Why a compliance flag is raised, in plain words, in English, French and Ukrainian."""
# ruff: noqa: RUF001 -- French and Ukrainian text use their own letters and apostrophes

from __future__ import annotations

import datetime as dt

from api.embed.labels import category_label, country_name
from api.text.display import display_day
from projections.readmodels.documents import FlagDoc, TreatyDoc

REASON = {
    "en": "{country} has been a party to the {treaty} since {since}{status}; "
    "the treaty forbids it to {act} {category}",
    # "Ukraine : partie au…" reads right for every state, where "Ukraine est…" lacks the
    # article French puts before most country names (l'Ukraine, la Pologne, le Canada).
    "fr": "{country}\u202f: partie au traité «\u00a0{treaty}\u00a0» depuis le {since}{status}"
    "\u202f; ce traité lui interdit {act} des {category}",
    "uk": "{country} є стороною договору «{treaty}» з {since}{status}; "
    "договір забороняє цій державі {act} {category}",
}
ACTS = {
    "en": {"USE": "use", "ACQUIRE": "acquire", "TRANSFER": "transfer"},
    "fr": {"USE": "d’employer", "ACQUIRE": "d’acquérir", "TRANSFER": "de transférer"},
    "uk": {"USE": "застосовувати", "ACQUIRE": "набувати", "TRANSFER": "передавати"},
}
NOTIFIED = {
    "en": (
        " (it notified its withdrawal on {on})",
        " (it notified its withdrawal on {on}, to take effect on {off})",
    ),
    "fr": (" (retrait notifié le {on})", " (retrait notifié le {on}, effectif le {off})"),
    "uk": (
        " (про вихід повідомлено {on})",
        " (про вихід повідомлено {on}, він набуває чинності {off})",
    ),
}
SUSPENDED = {
    "en": " (its obligations suspended since {on})",
    "fr": " (obligations suspendues depuis le {on})",
    "uk": " (зобов’язання призупинено з {on})",
}
LANGS = tuple(REASON)


def _day(day: dt.date, lang: str) -> str:
    return display_day(day.isoformat(), lang)


def flag_reason(flag: FlagDoc, treaty: TreatyDoc | None, lang: str) -> str:
    """'Ukraine has been a party to the Mine Ban Treaty since 1 June 2006; the treaty forbids
    it to acquire antipersonnel landmines' for one flag, in `lang` (one of LANGS)."""
    status = ""
    if flag["status"] == "WITHDRAWAL_NOTIFIED":
        off = flag["withdrawalOn"]
        template = NOTIFIED[lang][off is not None]
        status = template.format(
            on=_day(flag["statusOn"], lang), off=_day(off, lang) if off else ""
        )
    elif flag["status"] == "OBLIGATIONS_SUSPENDED":
        status = SUSPENDED[lang].format(on=_day(flag["statusOn"], lang))
    return REASON[lang].format(
        country=country_name(flag["country"], lang),
        treaty=(treaty.get("shortName") or treaty["name"]) if treaty else flag["treaty"],
        since=_day(flag["since"], lang),
        status=status,
        act=ACTS[lang][flag["act"]],
        category=category_label(flag["weaponCategory"], lang),
    )
