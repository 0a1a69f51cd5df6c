"""Treaty membership: parties on any date, withdrawals, suspensions, corrections, asOf."""

from __future__ import annotations

import datetime as dt
from typing import Any

from api.importing.commands import import_lines
from projections.readmodels.membership import Span, membership_spans
from projections.service import Store
from tests.conftest import SOURCE, line, seed_lines

D = dt.date
CCM = "cluster-munition-convention"


def act(ident: str, actor: str, action: str, treaty: str = CCM, **dates: str) -> str:
    """One treaty-action decision as an import line."""
    return line(
        "recordDecision",
        id=ident,
        actor=actor,
        action=action,
        treaty=treaty,
        headline=ident,
        sources=SOURCE,
        **dates,
    )


def parties(store: Store, day: dt.date, treaty: str = CCM, **kw: Any) -> list[tuple[Any, ...]]:
    rows = store.read.parties(treaty, valid_at=day, **kw)
    return [(r["country"], r["status"], r["since"]) for r in rows]


def test_ukraine_is_a_party_to_the_mine_ban_treaty_from_its_entry_into_force_for_ukraine(
    store: Store,
) -> None:
    import_lines(store, seed_lines())
    ottawa = "ottawa-convention"
    assert parties(store, D(2024, 11, 20), ottawa) == [("UKR", "PARTY", D(2006, 6, 1))]
    assert parties(store, D(2006, 6, 1), ottawa) == [("UKR", "PARTY", D(2006, 6, 1))]
    # Ratified on 2005-12-27 but only bound from 2006-06-01; a signatory is not a party.
    assert parties(store, D(2006, 5, 31), ottawa) == []
    assert parties(store, D(2000, 1, 1), ottawa) == []


def test_a_notified_withdrawal_leaves_a_state_a_party_until_it_takes_effect(
    store: Store,
) -> None:
    import_lines(store, seed_lines()[:2])
    import_lines(
        store,
        [
            act("ltu-accede", "LTU", "ACCEDE", decidedOn="2011-03-24"),
            act("ltu-announce", "LTU", "ANNOUNCE_WITHDRAWAL", announcedOn="2024-07-18"),
            act("ltu-notify", "LTU", "NOTIFY_WITHDRAWAL", decidedOn="2024-09-06"),
            act("ltu-effective", "LTU", "WITHDRAWAL_EFFECTIVE", effectiveOn="2025-03-07"),
        ],
    )
    since = D(2011, 3, 24)
    assert parties(store, D(2024, 8, 1)) == [("LTU", "PARTY", since)]
    assert parties(store, D(2024, 9, 6)) == [("LTU", "WITHDRAWAL_NOTIFIED", since)]
    assert parties(store, D(2025, 3, 6)) == [("LTU", "WITHDRAWAL_NOTIFIED", since)]
    assert parties(store, D(2025, 3, 7)) == []


def test_suspended_obligations_do_not_end_membership(store: Store) -> None:
    import_lines(store, seed_lines()[:2])
    import_lines(
        store,
        [
            act("fra-ratify", "FRA", "RATIFY", decidedOn="2009-09-25", effectiveOn="2010-08-01"),
            act("fra-suspend", "FRA", "SUSPEND_OBLIGATIONS", decidedOn="2030-01-15"),
        ],
    )
    assert parties(store, D(2030, 1, 14)) == [("FRA", "PARTY", D(2010, 8, 1))]
    assert parties(store, D(2030, 6, 1)) == [("FRA", "OBLIGATIONS_SUSPENDED", D(2010, 8, 1))]


def test_no_state_is_a_party_before_the_treaty_itself_enters_into_force(store: Store) -> None:
    import_lines(store, seed_lines()[:2])
    import_lines(store, [act("irl-ratify", "IRL", "RATIFY", decidedOn="2008-12-03")])
    assert parties(store, D(2009, 1, 1)) == []
    assert parties(store, D(2010, 8, 1)) == [("IRL", "PARTY", D(2010, 8, 1))]


def test_a_ratification_without_effective_date_takes_effect_at_a_later_entry_into_force() -> None:
    ratify = {"action": "RATIFY", "decidedOn": "2012-03-01"}
    in_force = {"action": "ENTRY_INTO_FORCE", "effectiveOn": "2012-09-01"}
    assert membership_spans([(1, ratify), (2, in_force)], D(2010, 8, 1)) == [
        Span(D(2012, 9, 1), "PARTY", D(2012, 9, 1), None)
    ]
    assert membership_spans([(1, ratify)], D(2010, 8, 1)) == [
        Span(D(2012, 3, 1), "PARTY", D(2012, 3, 1), None)
    ]


def test_as_of_an_earlier_position_membership_is_what_the_record_said_then(
    store: Store,
) -> None:
    import_lines(store, seed_lines()[:2])
    import_lines(store, [act("nor-ratify", "NOR", "RATIFY", decidedOn="2008-12-03")])
    before_withdrawal = store.head()
    import_lines(
        store,
        [
            act("nor-notify", "NOR", "NOTIFY_WITHDRAWAL", decidedOn="2025-01-10"),
            act("nor-out", "NOR", "WITHDRAWAL_EFFECTIVE", effectiveOn="2025-07-10"),
        ],
    )
    day = D(2026, 1, 1)
    assert parties(store, day) == []
    assert parties(store, day, as_of=before_withdrawal) == [("NOR", "PARTY", D(2010, 8, 1))]
    assert parties(store, day, as_of=before_withdrawal + 1) == [
        ("NOR", "WITHDRAWAL_NOTIFIED", D(2010, 8, 1))
    ]


def test_corrections_and_retractions_of_treaty_actions_change_membership(store: Store) -> None:
    import_lines(store, seed_lines()[:2])
    import_lines(store, [act("mlt-ratify", "MLT", "RATIFY", decidedOn="2015-05-01")])
    recorded = store.head()
    import_lines(
        store,
        [
            line(
                "correctDecision",
                id="mlt-ratify",
                changes={"effectiveOn": "2015-11-01"},
                reason="in force six months after deposit",
                sources=SOURCE,
            )
        ],
    )
    corrected = store.head()
    import_lines(
        store,
        [line("retractDecision", id="mlt-ratify", reason="wrong state", sources=SOURCE)],
    )
    day = D(2020, 1, 1)
    assert parties(store, day, as_of=recorded) == [("MLT", "PARTY", D(2015, 5, 1))]
    assert parties(store, day, as_of=corrected) == [("MLT", "PARTY", D(2015, 11, 1))]
    assert parties(store, day) == []


def test_a_correction_moving_a_ratification_to_another_treaty_moves_the_party(
    store: Store,
) -> None:
    import_lines(store, seed_lines()[:2])
    import_lines(store, [act("per-ratify", "PER", "RATIFY", decidedOn="2012-09-26")])
    import_lines(
        store,
        [
            line(
                "correctDecision",
                id="per-ratify",
                changes={"treaty": "ottawa-convention"},
                reason="it was the Mine Ban Treaty",
                sources=SOURCE,
            )
        ],
    )
    assert parties(store, D(2020, 1, 1)) == []
    assert parties(store, D(2020, 1, 1), "ottawa-convention") == [("PER", "PARTY", D(2012, 9, 26))]


def test_a_rebuild_from_the_log_gives_the_same_membership_rows(store: Store) -> None:
    import_lines(store, seed_lines())
    import_lines(
        store,
        [
            act("ltu-accede", "LTU", "ACCEDE", decidedOn="2011-03-24"),
            act("ltu-notify", "LTU", "NOTIFY_WITHDRAWAL", decidedOn="2024-09-06"),
            line("retractDecision", id="ltu-notify", reason="not yet", sources=SOURCE),
        ],
    )
    before = store.projector.digests()
    store.projector.rebuild()
    assert store.projector.digests() == before


def test_a_signature_counts_before_a_state_is_bound_and_again_after_it_withdrew() -> None:
    sign = {"action": "SIGN", "decidedOn": "1997-12-03"}
    ratify = {"action": "RATIFY", "decidedOn": "1998-06-29", "effectiveOn": "1999-03-01"}
    late_sign = {"action": "SIGN", "decidedOn": "2001-01-01"}
    leave = {"action": "NOTIFY_WITHDRAWAL", "decidedOn": "2025-06-27", "effectiveOn": "2025-12-27"}
    again = {"action": "SIGN", "decidedOn": "2030-01-01"}
    acts = [(1, sign), (2, ratify), (3, late_sign), (4, leave), (5, again)]
    signed, bound = D(1997, 12, 3), D(1999, 3, 1)
    assert membership_spans(acts, bound) == [
        Span(signed, "SIGNATORY", None, bound, signed),
        Span(bound, "PARTY", bound, D(2025, 6, 27), signed),
        Span(
            D(2025, 6, 27), "WITHDRAWAL_NOTIFIED", bound, D(2025, 12, 27), signed, D(2025, 12, 27)
        ),
        Span(D(2025, 12, 27), "WITHDRAWN", None, D(2030, 1, 1), signed, D(2025, 12, 27)),
        Span(D(2030, 1, 1), "SIGNATORY", None, None, D(2030, 1, 1)),
    ]
