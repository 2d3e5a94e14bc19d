"""The process map as a picture: an SVG swimlane diagram of who delivers what, and when.

One lane per function (its name, owner and lead on the left), each milestone a labelled box on
the customer's lifecycle timeline (x: days since the payment), drawn once per occurrence within
the map's horizon, arrows from each milestone to the ones that wait for it, a time axis in months
and a legend. Given an account's milestone runs and the day it paid, the boxes take the
account's real dates and the colour of their state, the axis names real months and a line marks
today.

`process_map_svg` is a pure function: the same map, runs and moments give the same document.
The SVG stands alone (no fonts, images, scripts or links), has a `<title>` and `<desc>`, escapes
every text, and sizes itself in pixels so a browser shows it at a readable scale (scrolling
sideways) instead of shrinking three years into one window.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from xml.sax.saxutils import escape, quoteattr

from domain.handoffs import HANDOFF_STATE_WORDS, HandoffState
from domain.process_map import ANCHOR_WORDS, Anchor, Function, Milestone, ProcessMap
from starter.charts.svg import TONES, num, shorten, text, tooltip
from workflows.process_map_state import MilestoneRun

# Where an anchor falls on a typical customer's timeline, in days after the payment: the picture
# of the map itself, and of an account for the anchors it has not reached yet.
TYPICAL_ANCHOR_DAY = {
    Anchor.PAYMENT_RECEIVED: 0,
    Anchor.REQUIREMENTS_STARTED: 0,
    Anchor.ONBOARDING_STARTED: 14,
    Anchor.ADOPTION_STARTED: 60,
    # A renewal starts a segment-dependent time before the contract ends; 90 days is typical.
    Anchor.RENEWAL_STARTED: 275,
    Anchor.CONTRACT_END: 365,
}
# Anchors that come again with every contract term; the picture assumes yearly terms.
PER_TERM_ANCHORS = frozenset({Anchor.RENEWAL_STARTED, Anchor.CONTRACT_END})
TERM_DAYS = 365
NOT_STARTED = "not_started"

# In people's words: the handoff states', and an occurrence the account has no handoff for yet.
STATE_WORDS: dict[str, str] = {
    **{state.value: words for state, words in HANDOFF_STATE_WORDS.items()},
    NOT_STARTED: "not started",
}
# How each state looks: fill, outline and text colour.
STATE_LOOKS: dict[str, tuple[str, str, str]] = {
    HandoffState.DONE: ("#e6f4ea", TONES["good"], TONES["ink"]),
    HandoffState.OPEN: ("#e8f0fe", TONES["accent"], TONES["ink"]),
    HandoffState.OVERDUE: ("#fce8e6", TONES["bad"], TONES["ink"]),
    HandoffState.BLOCKED: ("#fef3e0", TONES["warn"], TONES["ink"]),
    HandoffState.WAITING: ("#f1f3f4", TONES["neutral"], TONES["ink"]),
    HandoffState.CANCELLED: ("#ffffff", TONES["muted"], TONES["neutral"]),
    NOT_STARTED: ("#ffffff", "#9aa0a6", TONES["neutral"]),
}
# The map alone: each function's boxes in a colour of their own (fill, outline).
LANE_COLOURS = [
    ("#e8f0fe", "#1f5fa8"),
    ("#e6f4ea", "#2e7d32"),
    ("#fef7e0", "#a35c00"),
    ("#f3e8fd", "#7b1fa2"),
    ("#e0f2f1", "#00796b"),
    ("#fce4ec", "#ad1457"),
    ("#f1f3f4", "#5f6368"),
]
INK, MUTED, GRID, TODAY = TONES["ink"], TONES["neutral"], TONES["grid"], "#c5221f"

PX_PER_DAY = 1.5
LABEL_WIDTH = 250
BOX_WIDTH, BOX_HEIGHT = 176, 58
ROW_GAP, LANE_PAD = 8, 10
LANE_MIN_HEIGHT = 66
HEADER_HEIGHT = 100  # title, subtitle and the two rows of the time axis
# The least room, in pixels, between two labels of the time axis.
LABEL_ROOM = 34
FONT = "DejaVu Sans, Verdana, Arial, sans-serif"
TITLE_SIZE, DETAIL_SIZE, SMALL_SIZE = 11.0, 10.0, 10.0
# A character is at most this wide, in ems, in the fonts above (DejaVu Sans, the widest).
EM_PER_CHAR = 0.6
TITLE_CHARS = int((BOX_WIDTH - 18) / (TITLE_SIZE * EM_PER_CHAR))
DETAIL_CHARS = int((BOX_WIDTH - 18) / (DETAIL_SIZE * EM_PER_CHAR))
LABEL_CHARS = int((LABEL_WIDTH - 24) / (SMALL_SIZE * EM_PER_CHAR))


# An account's occurrences by (milestone id, cycle): the workflow's runs, or the CRM's
# handoff rows read as runs.
Runs = Mapping[tuple[str, int], MilestoneRun]


def runs_by_occurrence(runs: Iterable[MilestoneRun]) -> Runs:
    return {(r.milestone_id, r.cycle): r for r in runs}


def state_words(state: str) -> str:
    """A state in people's words (one this code does not know: its name, spaced)."""
    return STATE_WORDS.get(state, state.replace("_", " "))


def day_text(moment: datetime) -> str:
    """`3 Feb 2027`."""
    return f"{moment.day} {moment:%b %Y}"


def ordinal(number: int) -> str:
    """`1st`, `2nd`, `3rd`, `11th`, `22nd`."""
    suffix = "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10)
    return f"{number}{suffix or 'th'}"


def occurrence_title(milestone: Milestone, cycle: int) -> str:
    """The title, and which time it is for a milestone that comes again."""
    return milestone.title if cycle == 0 else f"{milestone.title} ({ordinal(cycle + 1)} time)"


def starts_in_words(milestone: Milestone) -> str:
    """`when onboarding starts`, `7 days after onboarding starts`, `150 days before the contract
    ends`."""
    anchor, days = ANCHOR_WORDS[milestone.starts.anchor], milestone.starts.offset_days
    if days == 0:
        return f"when {anchor}"
    unit = "day" if abs(days) == 1 else "days"
    return f"{abs(days)} {unit} {'after' if days > 0 else 'before'} {anchor}"


def repeats(milestone: Milestone) -> bool:
    return bool(milestone.repeat_every_days) or milestone.starts.anchor in PER_TERM_ANCHORS


def _cycle_days(milestone: Milestone) -> int:
    """Days between two occurrences (a contract-term milestone: a yearly term)."""
    if milestone.starts.anchor in PER_TERM_ANCHORS:
        return TERM_DAYS
    return milestone.repeat_every_days or 0


def _days(moment: datetime, day_zero: datetime) -> float:
    return (moment - day_zero) / timedelta(days=1)


def day_zero(process_map: ProcessMap, runs: Iterable[MilestoneRun]) -> datetime | None:
    """When the account paid, from its runs: exactly from a milestone counted from the
    payment, else from another one as far as a typical timeline goes (None: no runs)."""
    by_id = {m.id: m for m in process_map.milestones}
    estimates = []
    for run in runs:
        milestone = by_id.get(run.milestone_id)
        if milestone is None:
            continue
        anchor = milestone.starts.anchor
        days = milestone.starts.offset_days + run.cycle * _cycle_days(milestone)
        estimate = run.starts_at - timedelta(days=days + TYPICAL_ANCHOR_DAY[anchor])
        estimates.append((anchor != Anchor.PAYMENT_RECEIVED, estimate))
    return min(estimates)[1] if estimates else None


@dataclass
class _Box:
    milestone: Milestone
    cycle: int
    day: float  # starts, in days since the payment
    due_day: float
    run: MilestoneRun | None
    row: int = 0
    x: float = 0.0
    y: float = 0.0

    @property
    def right(self) -> float:
        return self.x + BOX_WIDTH

    @property
    def bottom(self) -> float:
        return self.y + BOX_HEIGHT


class _Anchors:
    """When each anchor happens, in days since the payment: the account's, where its handoffs
    tell, else the typical timeline's."""

    def __init__(self, process_map: ProcessMap, runs: Runs, start: datetime | None) -> None:
        self._known: dict[tuple[Anchor, int], float] = {}
        if start is None:
            return
        by_id = {m.id: m for m in process_map.milestones}
        for run in runs.values():
            milestone = by_id.get(run.milestone_id)
            if milestone is None:
                continue
            anchor = milestone.starts.anchor
            term = run.cycle if anchor in PER_TERM_ANCHORS else 0
            offset = milestone.starts.offset_days + (run.cycle - term) * _cycle_days(milestone)
            self._known.setdefault((anchor, term), _days(run.starts_at, start) - offset)

    def day(self, anchor: Anchor, term: int) -> float:
        if (anchor, term) in self._known:
            return self._known[(anchor, term)]
        earlier = [t for a, t in self._known if a == anchor and t < term]
        if anchor in PER_TERM_ANCHORS and earlier:
            last = max(earlier)
            return self._known[(anchor, last)] + (term - last) * TERM_DAYS
        return TYPICAL_ANCHOR_DAY[anchor] + term * TERM_DAYS

    def expected(self, milestone: Milestone, cycle: int) -> float:
        anchor = milestone.starts.anchor
        if anchor in PER_TERM_ANCHORS:
            return self.day(anchor, cycle) + milestone.starts.offset_days
        every = milestone.repeat_every_days or 0
        return self.day(anchor, 0) + milestone.starts.offset_days + cycle * every


def _boxes(process_map: ProcessMap, runs: Runs, start: datetime | None) -> list[_Box]:
    """Every occurrence to draw, in map order then cycle: those expected within the horizon,
    and any the account has a run for."""
    anchors = _Anchors(process_map, runs, start)
    boxes = []
    for milestone in process_map.milestones:
        cycles = {c for m, c in runs if m == milestone.id}
        cycle = 0
        while anchors.expected(milestone, cycle) <= process_map.horizon_days:
            cycles.add(cycle)
            if not repeats(milestone):
                break
            cycle += 1
        for cycle in sorted(cycles):
            run = runs.get((milestone.id, cycle))
            day = anchors.expected(milestone, cycle)
            due = day + milestone.due_within_days
            if run is not None and start is not None:
                day, due = _days(run.starts_at, start), _days(run.due_at, start)
            boxes.append(_Box(milestone, cycle, day, due, run))
    return boxes


def _stack(boxes: list[_Box]) -> int:
    """Give each box of one lane the first row where it overlaps nothing; the rows used."""
    ends: list[float] = []
    for box in sorted(boxes, key=lambda b: b.x):
        row = next((r for r, end in enumerate(ends) if end + ROW_GAP <= box.x), len(ends))
        if row == len(ends):
            ends.append(box.right)
        ends[row] = box.right
        box.row = row
    return max(len(ends), 1)


def _title_lines(title: str) -> list[str]:
    """The title in at most two lines that fit the box; what does not fit ends in an ellipsis
    (the full title is the box's tooltip)."""
    return textwrap.wrap(title, width=TITLE_CHARS, max_lines=2, placeholder=" …") or [title]


@dataclass(frozen=True)
class _Frame:
    """The picture's coordinates: days to x, and where the lanes are."""

    first_day: float
    last_day: float
    start: datetime | None

    def x(self, day: float) -> float:
        return LABEL_WIDTH + 12 + (day - self.first_day) * PX_PER_DAY

    @property
    def width(self) -> float:
        return max(self.x(self.last_day) + BOX_WIDTH + 24, 960)


def _detail(box: _Box, frame: _Frame) -> str:
    """The line under a box's title: when, and for an account, its state."""
    run, start = box.run, frame.start
    if start is None:
        return f"day {round(box.day)}, due in {box.milestone.due_within_days} days"
    if run is None:
        return f"not started, ~{start + timedelta(days=box.day):%b %Y}"
    due = day_text(run.due_at)
    if run.state == HandoffState.DONE and run.done_at is not None:
        return f"done {day_text(run.done_at)}"
    if run.state == HandoffState.OVERDUE:
        return f"{'escalated' if run.escalated_at else 'overdue'}, due {due}"
    if run.state == HandoffState.WAITING:
        return f"starts {day_text(run.starts_at)}"
    if run.state == HandoffState.BLOCKED:
        return f"blocked, due {due}"
    if run.state == HandoffState.CANCELLED:
        return "cancelled"
    return f"due {due}"


def _box_tooltip(box: _Box, process_map: ProcessMap, frame: _Frame) -> str:
    milestone, run = box.milestone, box.run
    function = process_map.function(milestone.function)
    waits_for = [process_map.milestone(d).title for d in milestone.depends_on]
    lines = [
        occurrence_title(milestone, box.cycle),
        f"{function.name}, owner {function.owner or '-'}",
        f"Starts {starts_in_words(milestone)}; due within {milestone.due_within_days} days",
        f"Waits for: {', '.join(waits_for)}" if waits_for else "",
        f"Done when: {milestone.done_when}",
        f"Holds the {milestone.gates.value} stage until done" if milestone.gates else "",
        f"Stage: {milestone.stage}",
    ]
    if frame.start is not None:
        state = NOT_STARTED if run is None else run.state
        lines.append(f"State: {state_words(state)}")
        if run is not None:
            lines.append(f"Due {day_text(run.due_at)}")
            if run.blocker:
                lines.append(f"Blocked: {run.blocker}")
            if run.escalated_at is not None:
                lines.append(f"Escalated to the lead {day_text(run.escalated_at)}")
            if run.done_at is not None:
                lines.append(f"Done {day_text(run.done_at)} by {run.done_by or '-'}")
    return tooltip("\n".join(line for line in lines if line))


def _look(box: _Box, lane: int, frame: _Frame) -> tuple[str, str, str, bool]:
    """Fill, outline, text colour and whether the outline is dashed."""
    if frame.start is None:
        fill, stroke = LANE_COLOURS[lane % len(LANE_COLOURS)]
        return fill, stroke, INK, False
    state = NOT_STARTED if box.run is None else box.run.state
    fill, stroke, ink = STATE_LOOKS.get(state, STATE_LOOKS[HandoffState.WAITING])
    return fill, stroke, ink, state == NOT_STARTED


def _draw_box(box: _Box, lane: int, process_map: ProcessMap, frame: _Frame) -> list[str]:
    fill, stroke, ink, dashed = _look(box, lane, frame)
    state = (NOT_STARTED if box.run is None else box.run.state) if frame.start else ""
    width = "2" if state == "overdue" else "1.2"
    dash = ' stroke-dasharray="4 3"' if dashed else ""
    parts = [
        f"<g class={quoteattr(f'milestone {state}'.strip())} "
        f'data-milestone={quoteattr(box.milestone.id)} data-cycle="{box.cycle}">',
        _box_tooltip(box, process_map, frame),
        f'<rect class="box" x="{num(box.x)}" y="{num(box.y)}" width="{BOX_WIDTH}" '
        f'height="{BOX_HEIGHT}" rx="4" fill="{fill}" stroke="{stroke}" stroke-width="{width}"'
        f"{dash}/>",
    ]
    if box.milestone.gates is not None:
        parts.append(
            f'<rect x="{num(box.x)}" y="{num(box.y)}" width="5" height="{BOX_HEIGHT}" '
            f'rx="2" fill="{stroke}"/>'
        )
    # The bar along the bottom: from the start to the due date, at the timeline's scale.
    span = min(max((box.due_day - box.day) * PX_PER_DAY, 3), BOX_WIDTH - 2)
    parts.append(
        f'<rect x="{num(box.x + 1)}" y="{num(box.bottom - 5)}" width="{num(span)}" '
        f'height="4" fill="{stroke}" opacity="0.8"/>'
    )
    x = box.x + 10
    lines = _title_lines(box.milestone.title)
    detail = shorten(_detail(box, frame), DETAIL_CHARS)
    return [
        *parts,
        '<g class="title">',
        *(text(x, box.y + 17 + i * 14, s, size=TITLE_SIZE, fill=ink) for i, s in enumerate(lines)),
        "</g>",
        text(x, box.y + 47, detail, size=DETAIL_SIZE, fill=MUTED),
        "</g>",
    ]


def _draw_lane(function: Function, y: float, height: float, width: float, lane: int) -> list[str]:
    """A lane's band across the picture, its function's name, owner and lead on the left."""
    name = shorten(function.name, 24)
    owner = shorten(function.owner or "no owner", LABEL_CHARS)
    lead = shorten(f"lead: {function.lead or '-'}", LABEL_CHARS)
    return [
        f'<g class="lane" data-function={quoteattr(function.id)}>',
        tooltip(f"{function.name}\nowner: {function.owner or '-'}\nlead: {function.lead or '-'}"),
        f'<rect x="0" y="{num(y)}" width="{num(width)}" height="{num(height)}" '
        f'fill="{"#f8f9fa" if lane % 2 == 0 else "#ffffff"}"/>',
        f'<line x1="0" y1="{num(y)}" x2="{num(width)}" y2="{num(y)}" stroke="{GRID}"/>',
        f'<g class="lane-name">{text(16, y + 22, name, size=13, bold=True)}</g>',
        text(16, y + 38, owner, size=SMALL_SIZE, fill=MUTED),
        text(16, y + 53, lead, size=SMALL_SIZE, fill=MUTED),
        "</g>",
    ]


def _arrow(source: _Box, target: _Box) -> str:
    """A line from a milestone to one that waits for it: a curve from edge to edge when the
    target starts clear of the source's box; else an elbow down (or up) from near the source's
    start, left of the boxes in between, into the target's left edge; else edge to edge
    vertically."""
    x2, y2 = target.x, target.y + BOX_HEIGHT / 2
    if target.x >= source.right + 12 or target.y == source.y:
        x1, y1 = source.right, source.y + BOX_HEIGHT / 2
        bend = max((x2 - x1) / 2, 20)
        path = (
            f"M{num(x1)},{num(y1)} C{num(x1 + bend)},{num(y1)} {num(x2 - bend)},{num(y2)} "
            f"{num(x2)},{num(y2)}"
        )
    elif target.x >= source.x + 20:
        down = target.y > source.y
        x1, y1 = source.x + 10, source.bottom if down else source.y
        turn = min(8.0, (x2 - x1) / 2, abs(y2 - y1))
        corner = y2 - turn if down else y2 + turn
        path = (
            f"M{num(x1)},{num(y1)} V{num(corner)} "
            f"Q{num(x1)},{num(y2)} {num(x1 + turn)},{num(y2)} H{num(x2)}"
        )
    else:
        down = target.y > source.y
        x1, y1 = source.x + 16, source.bottom if down else source.y
        x2, y2 = target.x + 24, target.y - 1 if down else target.bottom + 1
        bend = max(abs(y2 - y1) / 2, 16) * (1 if down else -1)
        path = (
            f"M{num(x1)},{num(y1)} C{num(x1)},{num(y1 + bend)} {num(x2)},{num(y2 - bend)} "
            f"{num(x2)},{num(y2)}"
        )
    return (
        f'<path class="dependency" d="{path}" fill="none" stroke="{MUTED}" '
        'stroke-width="1.3" opacity="0.75" marker-end="url(#pm-arrow)"/>'
    )


def _arrows(process_map: ProcessMap, boxes: list[_Box]) -> list[str]:
    by_occurrence = {(b.milestone.id, b.cycle): b for b in boxes}
    drawn = []
    for box in boxes:
        for dependency_id in box.milestone.depends_on:
            dependency = process_map.milestone(dependency_id)
            same_cycle = dependency.starts.anchor == box.milestone.starts.anchor
            source = by_occurrence.get((dependency_id, box.cycle if same_cycle else 0))
            if source is not None:
                drawn.append(_arrow(source, box))
    return drawn


def _axis(frame: _Frame, bottom: float) -> list[str]:
    """Month ticks along the top, grid lines down through the lanes: `month 6` on the map's
    timeline, real months (and years) on an account's."""
    months, years = ['<g class="months">'], ['<g class="years">']
    parts = [
        f'<line x1="{num(frame.x(frame.first_day))}" y1="{HEADER_HEIGHT - 4}" '
        f'x2="{num(frame.x(frame.last_day))}" y2="{HEADER_HEIGHT - 4}" stroke="{MUTED}"/>'
    ]
    for day, month_label, year_label, strong in _ticks(frame):
        x = frame.x(day)
        parts.append(
            f'<line x1="{num(x)}" y1="{HEADER_HEIGHT - 10}" x2="{num(x)}" '
            f'y2="{HEADER_HEIGHT - 4}" stroke="{MUTED}"/>'
        )
        if month_label or strong:
            parts.append(
                f'<line x1="{num(x)}" y1="{HEADER_HEIGHT}" x2="{num(x)}" y2="{num(bottom)}" '
                f'stroke="{MUTED if strong else GRID}" stroke-width="{1 if strong else 0.6}" '
                f'opacity="{0.5 if strong else 1}"/>'
            )
        if month_label:
            months.append(text(x + 2, HEADER_HEIGHT - 14, month_label, size=SMALL_SIZE, fill=MUTED))
        if year_label:
            years.append(text(x + 2, HEADER_HEIGHT - 30, year_label, size=SMALL_SIZE, bold=True))
    return [*parts, *months, "</g>", *years, "</g>"]


def _ticks(frame: _Frame) -> list[tuple[float, str, str, bool]]:
    """(day, month label, year label, whether a year starts there) for every month."""
    ticks = []
    if frame.start is None:
        month = 0
        while (day := month * TERM_DAYS / 12) <= frame.last_day:
            label = "payment" if month == 0 else (f"month {month}" if month % 3 == 0 else "")
            # A year's label where one starts, not at the horizon's end.
            year = f"year {month // 12 + 1}" if month % 12 == 0 and day < frame.last_day else ""
            ticks.append((day, label, year, month % 12 == 0))
            month += 1
        return ticks
    # The payment is day zero, named on the axis; a month or year starting too close to it to
    # have a label of its own keeps its tick.
    close = LABEL_ROOM / PX_PER_DAY
    months = []
    first = frame.start + timedelta(days=frame.first_day)
    moment = datetime(first.year, first.month, 1, tzinfo=first.tzinfo)
    end = frame.start + timedelta(days=frame.last_day)
    while moment <= end:
        day = _days(moment, frame.start)
        if day >= frame.first_day:
            january = moment.month == 1
            label = "" if 0 <= day < close else f"{moment:%b}"
            months.append((day, label, f"{moment.year}" if january else "", january))
        moment = datetime(
            moment.year + moment.month // 12, moment.month % 12 + 1, 1, tzinfo=moment.tzinfo
        )
    year_near = any(year and 0 <= day < close for day, _, year, _ in months)
    paid = (0.0, "paid", "" if year_near else f"{frame.start.year}", True)
    return sorted([paid, *months])


def _legend(frame: _Frame, top: float, counts: Mapping[str, int]) -> tuple[list[str], float]:
    """The legend's items, flowing in rows across the width; the parts and their bottom."""
    items: list[tuple[str, str]] = []
    if frame.start is not None:
        for state, (fill, stroke, _) in STATE_LOOKS.items():
            words = state_words(state)
            if state == HandoffState.CANCELLED and not counts.get(state):
                continue
            dash = ' stroke-dasharray="4 3"' if state == NOT_STARTED else ""
            swatch = f'<rect width="22" height="14" rx="3" fill="{fill}" stroke="{stroke}"{dash}/>'
            items.append((swatch, f"{words} ({counts.get(state, 0)})"))
        items.append(
            (f'<line x1="11" y1="-2" x2="11" y2="16" stroke="{TODAY}" stroke-width="2"/>', "today")
        )
    else:
        items.append(
            (
                f'<rect width="22" height="14" rx="3" fill="{LANE_COLOURS[0][0]}" '
                f'stroke="{LANE_COLOURS[0][1]}"/>',
                "milestone: its box starts on the day it starts",
            )
        )
    items += [
        (
            f'<rect y="10" width="22" height="4" fill="{MUTED}"/>',
            "bar: from its start to its due date",
        ),
        (
            f'<rect width="22" height="14" rx="3" fill="#ffffff" stroke="{MUTED}"/>'
            f'<rect width="5" height="14" rx="2" fill="{MUTED}"/>',
            "dark left edge: a journey stage waits for it",
        ),
        (
            f'<path d="M0,7 L20,7" stroke="{MUTED}" stroke-width="1.3" '
            'marker-end="url(#pm-arrow)"/>',
            "arrow: to a milestone that waits for this one",
        ),
    ]
    parts, x, y = [text(16, top + 11, "Legend", size=SMALL_SIZE, bold=True)], 80.0, top
    for swatch, words in items:
        width = 30 + len(words) * SMALL_SIZE * EM_PER_CHAR + 24
        if x + width > frame.width - 16:
            x, y = 80.0, y + 22
        parts.append(
            f'<g class="legend-item" transform="translate({num(x)},{num(y)})">{swatch}'
            f"{text(30, 11, words, size=SMALL_SIZE)}</g>"
        )
        x += width
    return parts, y + 22


def process_map_svg(
    process_map: ProcessMap,
    runs: Iterable[MilestoneRun] = (),
    *,
    start: datetime | None = None,
    now: datetime | None = None,
    subject: str | None = None,
) -> str:
    """The map as an SVG document.

    Without `start`: the map itself, on a typical customer's timeline (anchors other than the
    payment at TYPICAL_ANCHOR_DAY). With `start` (when the account paid; `day_zero` finds it
    from the runs): the account's `runs` place and colour the occurrences it has,
    the others sit where its known anchors (else the typical timeline) put them, the axis
    names months, and `now` is drawn as today's line. `subject` names the account.
    """
    by_occurrence = runs_by_occurrence(runs) if start is not None else {}
    boxes = _boxes(process_map, by_occurrence, start)
    today = _days(now, start) if now is not None and start is not None else None
    days = [b.day for b in boxes] + [b.due_day for b in boxes] + ([today] if today else [])
    frame = _Frame(
        first_day=min([0.0, *days]),
        last_day=max([float(process_map.horizon_days), *days]),
        start=start,
    )
    width = frame.width

    lanes: list[str] = []
    drawn: list[str] = []
    y = float(HEADER_HEIGHT)
    for lane, function in enumerate(process_map.functions):
        own = [b for b in boxes if b.milestone.function == function.id]
        for box in own:
            box.x = frame.x(box.day)
        rows = _stack(own)
        height = max(LANE_MIN_HEIGHT, 2 * LANE_PAD + rows * BOX_HEIGHT + (rows - 1) * ROW_GAP)
        for box in own:
            box.y = y + LANE_PAD + box.row * (BOX_HEIGHT + ROW_GAP)
        lanes += _draw_lane(function, y, height, width, lane)
        for box in own:
            drawn += _draw_box(box, lane, process_map, frame)
        y += height
    lanes_bottom = y
    lanes.append(
        f'<line x1="{LABEL_WIDTH}" y1="{HEADER_HEIGHT - 4}" x2="{LABEL_WIDTH}" '
        f'y2="{num(lanes_bottom)}" stroke="{GRID}"/>'
    )

    # Today's line runs beneath the boxes (it hides no title), its label under the lanes.
    today_line: list[str] = []
    today_label: list[str] = []
    footer_top = lanes_bottom + 12
    if today is not None and now is not None:
        x = frame.x(today)
        today_line.append(
            f'<line class="today" x1="{num(x)}" y1="{HEADER_HEIGHT - 10}" x2="{num(x)}" '
            f'y2="{num(lanes_bottom + 4)}" stroke="{TODAY}" stroke-width="2"/>'
        )
        today_label += [
            '<g class="today-label">',
            text(
                min(max(x, LABEL_WIDTH + 60), width - 80),
                lanes_bottom + 18,
                f"today, {day_text(now)}",
                size=SMALL_SIZE,
                fill=TODAY,
                anchor="middle",
                bold=True,
            ),
            "</g>",
        ]
        footer_top += 14

    counts: dict[str, int] = {}
    for box in boxes:
        state = NOT_STARTED if box.run is None else box.run.state
        counts[state] = counts.get(state, 0) + 1
    legend, legend_bottom = _legend(frame, footer_top + 8, counts)
    notes = _notes(process_map, by_occurrence, start)
    note_parts = [
        text(16, legend_bottom + 14 + i * 15, note, size=SMALL_SIZE, fill=MUTED)
        for i, note in enumerate(notes)
    ]
    total_height = legend_bottom + 14 + 15 * len(notes) + 8

    title = process_map.title + (f": {subject}" if subject else "")
    subtitle = _subtitle(process_map, boxes, subject, now if start is not None else None)
    header = [
        text(16, 24, title, size=16, bold=True),
        text(16, 44, subtitle, size=11, fill=MUTED),
    ]
    return "".join(
        [
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{num(width)}" '
            f'height="{num(total_height)}" viewBox="0 0 {num(width)} {num(total_height)}" '
            'role="img" '
            f'aria-labelledby="pm-title pm-desc" font-family="{FONT}">',
            f'<title id="pm-title">{escape(title)}</title>',
            f'<desc id="pm-desc">{escape(_description(process_map, boxes, subject, now))}</desc>',
            "<defs>",
            '<marker id="pm-arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
            f'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
            f'fill="{MUTED}"/></marker>',
            "</defs>",
            f'<rect width="{num(width)}" height="{num(total_height)}" fill="#ffffff"/>',
            *header,
            *lanes,
            *_axis(frame, lanes_bottom),
            *today_line,
            *_arrows(process_map, boxes),
            *drawn,
            *today_label,
            *legend,
            *note_parts,
            "</svg>",
        ]
    )


def _subtitle(
    process_map: ProcessMap, boxes: Sequence[_Box], subject: str | None, now: datetime | None
) -> str:
    count = f"{len(process_map.functions)} functions, {len(process_map.milestones)} milestones"
    if subject is None:
        return (
            f"Map version {process_map.label}: {count}, {len(boxes)} occurrences in "
            f"{process_map.horizon_days} days; boxes sit where they start, counted from the "
            "payment on a typical timeline"
        )
    done = sum(1 for b in boxes if b.run is not None and b.run.state == HandoffState.DONE)
    late = sum(1 for b in boxes if b.run is not None and b.run.state == HandoffState.OVERDUE)
    when = f" as of {day_text(now)}" if now is not None else ""
    return (
        f"Map version {process_map.label}: {count}; {done} of {len(boxes)} occurrences done, "
        f"{late} overdue{when}"
    )


def _description(
    process_map: ProcessMap, boxes: Sequence[_Box], subject: str | None, now: datetime | None
) -> str:
    functions = ", ".join(f.name for f in process_map.functions)
    words = (
        f"Swimlane diagram of the process map '{process_map.title}' (version "
        f"{process_map.label}): one lane per function ({functions}); each milestone is a box "
        "placed on the lifecycle timeline where it starts, once per occurrence, with arrows to "
        "the milestones that wait for it."
    )
    if subject is not None:
        counts: dict[str, int] = {}
        for box in boxes:
            label = state_words(box.run.state if box.run else NOT_STARTED)
            counts[label] = counts.get(label, 0) + 1
        states = ", ".join(f"{n} {label}" for label, n in counts.items())
        when = f" on {day_text(now)}" if now is not None else ""
        words += f" Coloured by each milestone's state for {subject}{when}: {states}."
    return words


def _notes(process_map: ProcessMap, runs: Runs, start: datetime | None) -> list[str]:
    notes = []
    if any(m.starts.anchor in PER_TERM_ANCHORS for m in process_map.milestones):
        notes.append(
            "Milestones counted from the contract's end (or the renewal) are drawn once per "
            "yearly contract term."
        )
    if start is None:
        notes.append(
            "Typical timeline: requirements start at the payment, onboarding 14 days after it, "
            "adoption 60 days after it, the contract ends after 365 days."
        )
    else:
        notes.append(
            "Boxes with a handoff sit on its real dates; the others where the account's "
            "anchors (else a typical timeline) put them."
        )
        known = {m.id for m in process_map.milestones}
        stray = sorted({m for m, _ in runs if m not in known})
        if stray:
            notes.append(
                f"Not drawn: handoffs of milestones this map does not have ({', '.join(stray)})."
            )
    return notes
