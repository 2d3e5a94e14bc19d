"""The Gantt chart: each bar between its dates on the time axis, lanes in order with their
bars under them, milestones as diamonds, marks on bars, a line at today."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from markupsafe import Markup

from starter.charts import Mark, Span, gantt_chart
from starter.charts.gantt import ticks
from tests.charts.svg_parts import find, parse, texts, tooltips

START = datetime(2026, 1, 1, tzinfo=UTC)
END = datetime(2026, 12, 31, tzinfo=UTC)
TODAY = datetime(2026, 6, 15, tzinfo=UTC)
LEFT, RIGHT = 132, 392  # the time axis' extent in the chart's units


def x_of(moment: datetime) -> float:
    return LEFT + (moment - START) / (END - START) * (RIGHT - LEFT)


def chart(spans: list[Span]) -> Markup:
    return gantt_chart(spans, start=START, end=END, today=TODAY, title="Journey", desc="d")


def test_a_bar_lies_between_its_dates() -> None:
    begins, ends = datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 5, 1, tzinfo=UTC)
    root = parse(chart([Span("Tasks", "Prepare renewal", begins, ends, "active")]))
    (bar,) = [r for r in find(root, "rect") if r.attrib.get("rx")]
    assert float(bar.attrib["x"]) == pytest.approx(x_of(begins), abs=0.1)
    assert float(bar.attrib["x"]) + float(bar.attrib["width"]) == pytest.approx(x_of(ends), abs=0.1)
    assert tooltips(root, "rect") == ["Prepare renewal: in progress, 1 Mar 2026 to 1 May 2026"]


def test_lanes_keep_their_order_and_their_bars() -> None:
    spans = [
        Span("Lifecycle", "Onboarding", START, START + timedelta(days=40), "done"),
        Span("Escalations", "Export broken", TODAY - timedelta(days=3), TODAY, "overdue"),
        Span("Lifecycle", "Adoption", START + timedelta(days=40), TODAY),
    ]
    shown = texts(parse(chart(spans)))
    order = [
        t
        for t in shown
        if t in ("Lifecycle", "Onboarding", "Adoption", "Escalations", "Export broken")
    ]
    assert order == ["Lifecycle", "Onboarding", "Adoption", "Escalations", "Export broken"]


def test_bars_outside_the_axis_are_left_out_and_those_across_an_edge_cut() -> None:
    spans = [
        Span("Tasks", "Long ago", START - timedelta(days=90), START - timedelta(days=60)),
        Span("Tasks", "Across the start", START - timedelta(days=10), START + timedelta(days=10)),
    ]
    root = parse(chart(spans))
    assert "Long ago" not in texts(root)
    (bar,) = [r for r in find(root, "rect") if r.attrib.get("rx")]
    assert float(bar.attrib["x"]) == pytest.approx(LEFT)


def test_milestones_marks_and_today() -> None:
    kickoff = datetime(2026, 2, 10, tzinfo=UTC)
    due = datetime(2026, 6, 1, tzinfo=UTC)
    spans = [
        Span("Onboarding", "Kickoff call", kickoff, kickoff, "done"),
        Span("Tasks", "Late task", datetime(2026, 5, 1, tzinfo=UTC), TODAY, "overdue",
             [Mark("Due", due)]),
    ]  # fmt: skip
    root = parse(chart(spans))
    paths = find(root, "path")
    (diamond,) = [p for p in paths if p.attrib["d"].endswith("z")]
    centre = float(diamond.attrib["d"].removeprefix("M").split(",")[0])
    assert centre == pytest.approx(x_of(kickoff), abs=0.1)
    assert "Due: 1 Jun 2026" in tooltips(root, "path")
    today = [line for line in find(root, "line") if line.attrib.get("stroke-dasharray")]
    assert len(today) == 1 and float(today[0].attrib["x1"]) == pytest.approx(x_of(TODAY), abs=0.1)
    assert "Today" in texts(root)


def test_the_axis_names_at_most_five_dates() -> None:
    year = ticks(START, END)
    assert 2 <= len(year) <= 5
    assert year[0][1] == "Jan 2026" and all(m.day == 1 for m, _ in year)
    three_years = ticks(START, START + timedelta(days=3 * 365))
    assert [label for _, label in three_years] == ["Jan 2026", "Jan 2027", "Jan 2028"]
    month = ticks(START, START + timedelta(days=30))
    assert [label for _, label in month][:2] == ["1 Jan", "8 Jan"]


def test_nothing_on_the_axis_says_so() -> None:
    assert texts(parse(chart([]))) == ["Nothing on this timeline yet"]
