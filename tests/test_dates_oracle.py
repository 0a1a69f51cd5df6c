"""Our fuzzy-date bounds agree with the `edtf` package on every form the record accepts."""

from __future__ import annotations

import datetime as dt

import edtf
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.dates import FuzzyDate, Precision

QUALIFIERS = st.sampled_from(["", "?", "~", "%"])


@st.composite
def edtf_dates(draw: st.DrawFn) -> str:
    day = draw(st.dates(min_value=dt.date(1000, 1, 1), max_value=dt.date(2999, 12, 31)))
    precision = draw(st.sampled_from(list(Precision)))
    text = {
        Precision.YEAR: f"{day.year:04d}",
        Precision.MONTH: f"{day.year:04d}-{day.month:02d}",
        Precision.DAY: day.isoformat(),
    }[precision]
    return text + draw(QUALIFIERS)


def _date(moment: object) -> dt.date:
    return dt.date(moment.tm_year, moment.tm_mon, moment.tm_mday)  # type: ignore[attr-defined]


@settings(max_examples=60, deadline=None)
@given(edtf_dates())
def test_bounds_and_qualifiers_match_the_edtf_reference(text: str) -> None:
    ours, reference = FuzzyDate(text), edtf.parse_edtf(text)
    assert ours.earliest == _date(reference.lower_strict())
    assert ours.latest == _date(reference.upper_strict())
    assert ours.uncertain == text.endswith(("?", "%"))
    assert ours.approximate == text.endswith(("~", "%"))
