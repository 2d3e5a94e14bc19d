"""A Gantt chart with swimlanes: bars on one time axis, grouped under their lane's name (in the
order the lanes first appear), with marks on a bar (a deadline) and a line at today.

Anything with `lane`, `label`, `start`, `end`, `state` and `markers` draws (the account 360's
bars do); `Span` and `Mark` are the plain ones. A bar whose start is its end is a milestone (a
diamond). States: planned (outlined), active, blocked, done, overdue, skipped; another state
draws as active."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Protocol

from markupsafe import Markup

from starter.charts import svg

_LABELS = 128
_LEFT, _RIGHT = _LABELS + 4, svg.WIDTH - 8
_AXIS = 30
_LANE = 16
_ROW = 14
_BAR = 9
_MAX_TICKS = 5

STATE_WORDS = {
    "planned": "planned",
    "active": "in progress",
    "blocked": "blocked",
    "done": "done",
    "overdue": "overdue",
    "skipped": "skipped",
}
# (fill, stroke) per state.
_STYLE = {
    "planned": ("#ffffff", svg.tone("accent")),
    "active": (svg.tone("accent"), svg.tone("accent")),
    "blocked": (svg.tone("warn"), svg.tone("warn")),
    "done": (svg.tone("neutral"), svg.tone("neutral")),
    "overdue": (svg.tone("bad"), svg.tone("bad")),
    "skipped": (svg.tone("muted"), svg.tone("muted")),
}


class GanttMark(Protocol):
    @property
    def label(self) -> str: ...

    @property
    def at(self) -> datetime: ...


class GanttItem(Protocol):
    @property
    def lane(self) -> str: ...

    @property
    def label(self) -> str: ...

    @property
    def start(self) -> datetime: ...

    @property
    def end(self) -> datetime: ...

    @property
    def state(self) -> str: ...

    @property
    def markers(self) -> Sequence[GanttMark]: ...


@dataclass(frozen=True)
class Mark:
    label: str
    at: datetime


@dataclass(frozen=True)
class Span:
    lane: str
    label: str
    start: datetime
    end: datetime
    state: str = "active"
    markers: Sequence[Mark] = ()


def _day(moment: datetime) -> str:
    return f"{moment:%d %b %Y}".lstrip("0")


def _month_starts(start: datetime, end: datetime, months: int) -> list[datetime]:
    first = date(start.year, start.month, 1)
    ticks: list[datetime] = []
    index = first.year * 12 + first.month - 1
    while True:
        year, month = divmod(index, 12)
        moment = datetime(year, month + 1, 1, tzinfo=start.tzinfo)
        if moment > end:
            return ticks
        if moment >= start and (month % months == 0 or months == 1):
            ticks.append(moment)
        index += 1


def ticks(start: datetime, end: datetime) -> list[tuple[datetime, str]]:
    """Dates to mark on the axis, at most five: weeks on a short axis, months on a long one."""
    span = end - start
    if span <= timedelta(days=60):
        step = timedelta(days=7 if span <= timedelta(days=35) else 14)
        moments = [start + step * i for i in range(int(span / step) + 1)]
        return [(m, f"{m:%d %b}".lstrip("0")) for m in moments][:_MAX_TICKS]
    for months in (1, 2, 3, 6, 12, 24, 60):
        moments = _month_starts(start, end, months)
        if len(moments) <= _MAX_TICKS:
            break
    return [
        (m, f"{m:%b %Y}" if i == 0 or m.month == 1 else f"{m:%b}") for i, m in enumerate(moments)
    ]


def _bar(item: GanttItem, x: svg.Scale, top: float, start: datetime, end: datetime) -> str:
    fill, stroke = _STYLE.get(item.state, _STYLE["active"])
    words = STATE_WORDS.get(item.state, item.state)
    if item.start == item.end:
        note = f"{item.label}: {words}, {_day(item.start)}"
        cx, cy = x(item.start.timestamp()), top + _BAR / 2
        return (
            f'<path d="M{svg.num(cx)},{svg.num(cy - 5)} l5,5 -5,5 -5,-5 z" fill="{fill}" '
            f'stroke="{stroke}">{svg.tooltip(note)}</path>'
        )
    left = x(max(item.start, start).timestamp())
    right = x(min(item.end, end).timestamp())
    note = f"{item.label}: {words}, {_day(item.start)} to {_day(item.end)}"
    dash = ' stroke-dasharray="3 2"' if item.state == "planned" else ""
    return (
        f'<rect x="{svg.num(left)}" y="{svg.num(top)}" width="{svg.num(max(right - left, 2))}" '
        f'height="{_BAR}" rx="2" fill="{fill}" stroke="{stroke}"{dash}>{svg.tooltip(note)}</rect>'
    )


def _mark(mark: GanttMark, x: svg.Scale, top: float) -> str:
    cx = x(mark.at.timestamp())
    return (
        f'<path d="M{svg.num(cx)},{svg.num(top - 2)} v{_BAR + 4}" stroke="{svg.tone("ink")}" '
        f'stroke-width="2">{svg.tooltip(f"{mark.label}: {_day(mark.at)}")}</path>'
    )


def gantt_chart(
    items: Sequence[GanttItem],
    *,
    start: datetime,
    end: datetime,
    today: datetime,
    title: str,
    desc: str,
) -> Markup:
    """`items` between `start` and `end` (bars outside are left out, bars across an edge are
    cut at it), one row each under its lane's name, with a line at `today`."""
    shown = [i for i in items if i.end >= start and i.start <= end]
    if not shown or end <= start:
        return svg.empty(title, desc, "Nothing on this timeline yet")
    x = svg.Scale(start.timestamp(), end.timestamp(), _LEFT, _RIGHT)
    body: list[str] = []
    for moment, label in ticks(start, end):
        body.append(svg.text(x(moment.timestamp()), 11, label, anchor="middle", size=svg.SMALL))
    lanes: dict[str, list[GanttItem]] = {}
    for item in shown:
        lanes.setdefault(item.lane, []).append(item)
    top = float(_AXIS)
    for lane, members in lanes.items():
        body.append(
            f'<rect x="0" y="{svg.num(top)}" width="{svg.WIDTH}" height="{_LANE}" fill="#f1f3f4"/>'
        )
        body.append(svg.text(4, top + 12, lane, bold=True))
        top += _LANE
        for item in members:
            body.append(svg.text(8, top + _BAR, svg.shorten(item.label, 24), size=svg.SMALL))
            bar_top = top + (_ROW - _BAR) / 2
            body.append(_bar(item, x, bar_top, start, end))
            body.extend(_mark(m, x, bar_top) for m in item.markers if start <= m.at <= end)
            top += _ROW
    height = top + 4
    for moment, _ in ticks(start, end):
        body.insert(
            0, svg.line(x(moment.timestamp()), 14, x(moment.timestamp()), height, svg.tone("grid"))
        )
    if start <= today <= end:
        at = x(today.timestamp())
        body.append(svg.line(at, 16, at, height, svg.tone("bad"), dashed=True))
        body.append(
            svg.text(at, 25, "Today", anchor="middle", size=svg.SMALL, fill=svg.tone("bad"))
        )
    return svg.document(height, title, desc, body, kind="gantt")
