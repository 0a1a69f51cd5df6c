"""The timeline graphic: an inline SVG drawn on the server, one mark per entry on a time axis."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from api.embed.timeline import Entry
from api.text.catalogs import tr
from api.text.display import display_edtf
from api.text.htmlsafe import esc, without_bidi

# Horizontal positions are percentages of the width, so the marks spread over any width while
# the text keeps its size: the same markup is readable at 360 px and at 1280 px.
LEFT, RIGHT = 5.0, 95.0
LANE, TOP, AXIS_GAP = 16, 12, 14
MAX_LANES = 4
GAP = 3.0  # percent of the width between two marks of one lane
STEPS = (1, 2, 5, 10, 20, 25, 50, 100, 200, 500, 1000)
MAX_TICKS = 6


class _Axis:
    """Where days fall on one axis, in percent of the width (two decimals)."""

    def __init__(self, start: dt.date, end: dt.date) -> None:
        self.start = start.toordinal()
        self.days = max(1, (end - start).days)

    def x(self, day: dt.date) -> float:
        """The share of the axis's days before `day`, placed between LEFT and RIGHT."""
        return round(LEFT + (day.toordinal() - self.start) / self.days * (RIGHT - LEFT), 2)


def _lanes(bounds: Sequence[tuple[float, float]]) -> list[int]:
    """A row for each mark (its left and right ends), so that marks close in time do not
    hide each other."""
    ends: list[float] = []
    lanes = []
    for left, right in bounds:
        lane = next((i for i, last in enumerate(ends) if last + GAP <= left), None)
        if lane is None:
            if len(ends) < MAX_LANES:
                lane = len(ends)
                ends.append(0.0)
            else:
                lane = min(range(len(ends)), key=ends.__getitem__)
        ends[lane] = max(left, right)
        lanes.append(lane)
    return lanes


def _ticks(first: int, last: int) -> list[int]:
    step = next((s for s in STEPS if (last - first) // s + 1 <= MAX_TICKS), STEPS[-1])
    return [y for y in range(first, last + 1) if y % step == 0] or [first]


def graphic(entries: Sequence[Entry], lang: str) -> str:
    """The SVG for a page's entries (in date order), or nothing when there are none."""
    if not entries:
        return ""
    # Each date's bounds read once: (earliest, latest, drawn as a span).
    dates = [(d.earliest, d.latest, d.approximate) for d in (e.date for e in entries)]
    first_year = min(earliest.year for earliest, _, _ in dates)
    last_year = max(latest.year for _, latest, _ in dates)
    start, end = dt.date(first_year, 1, 1), dt.date(last_year + 1, 1, 1)
    axis_x = _Axis(start, end).x
    lanes = _lanes([(axis_x(earliest), axis_x(latest)) for earliest, latest, _ in dates])
    axis = TOP + (max(lanes) + 1) * LANE
    height = axis + AXIS_GAP + 12
    title = tr(lang, "Decisions on a time axis")
    desc = tr(
        lang,
        "From {start} to {end}, one mark per decision of the list below; a bar spans a date "
        "known only to the month or the year, or only roughly.",
    ).format(start=display_edtf(str(first_year), lang), end=display_edtf(str(last_year), lang))
    # Numbers need no escaping; text from the record and the catalogs is escaped once each.
    parts = [
        f'<figure class="graphic"><svg width="100%" height="{height}" '
        'xmlns="http://www.w3.org/2000/svg">'
        '<g role="img" aria-labelledby="graphic-title graphic-desc">'
        f'<title id="graphic-title">{esc(title)}</title>'
        f'<desc id="graphic-desc">{esc(desc)}</desc>'
        f'<line class="axis" x1="{LEFT}%" x2="{RIGHT}%" y1="{axis}" y2="{axis}"/>'
    ]
    for year in _ticks(first_year, last_year + 1):
        x = axis_x(dt.date(year, 1, 1))
        parts.append(
            f'<line class="axis" x1="{x}%" x2="{x}%" y1="{axis - 4}" y2="{axis + 4}"/>'
            f'<text class="tick" x="{x}%" y="{axis + AXIS_GAP + 4}" text-anchor="middle">'
            f"{year}</text>"
        )
    # The image's text alternative describes the marks; their links are a shortcut for the
    # pointer, hidden from assistive technology, which has the list itself (links may not
    # nest in an image).
    parts.append("</g>")
    one_day = dt.timedelta(days=1)
    for entry, (earliest, latest, approximate), lane in zip(entries, dates, lanes, strict=True):
        left = axis_x(earliest)
        right = axis_x(latest + one_day)
        y = TOP + lane * LANE
        span = ""
        if earliest != latest or approximate:
            width = max(0.01, round(right - left, 2))
            span = (
                f'<rect class="span" x="{left}%" y="{y - 5}" width="{width}%" height="10" rx="3"/>'
            )
        # An SVG title cannot hold a <bdi>: the headline without bidi controls.
        parts.append(
            f'<a href="#{esc(entry.id)}" tabindex="-1" aria-hidden="true">'
            f"<title>{esc(entry.date_text)}: {esc(without_bidi(entry.headline))}</title>"
            f'{span}<circle class="mark" cx="{round((left + right) / 2, 2)}%" cy="{y}" r="5"/></a>'
        )
    parts.append("</svg></figure>")
    return "".join(parts)
