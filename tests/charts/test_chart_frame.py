"""Every chart: an image with a name and a description, scaled to its container, every text
escaped, nothing run and nothing fetched."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from markupsafe import Markup

from starter.charts import (
    Bar,
    BarGroup,
    BarKey,
    LineSeries,
    Span,
    bar_chart,
    bar_groups_chart,
    gantt_chart,
    line_chart,
    sparkline,
)
from tests.charts.svg_parts import NS, find, parse, texts, tooltips

EVIL = '<script>alert("x")</script> & "quotes"'
NOW = datetime(2026, 6, 15, tzinfo=UTC)

CHARTS: dict[str, Callable[[str], Markup]] = {
    "sparkline": lambda t: sparkline([1, 5, 3], title=t, desc=t),
    "line": lambda t: line_chart([t, "b"], [LineSeries(t, [1, 2])], title=t, desc=t, low=0, high=5),
    "bars": lambda t: bar_chart([Bar(t, 3), Bar("b", 4)], title=t, desc=t),
    "stacked": lambda t: bar_groups_chart(
        [BarGroup(t, [1, 2])],
        [BarKey(t, "good"), BarKey("k", "bad")],
        layout="stacked",
        title=t,
        desc=t,
    ),
    "grouped": lambda t: bar_groups_chart(
        [BarGroup(t, [1, 2])],
        [BarKey(t, "good"), BarKey("k", "bad")],
        layout="grouped",
        title=t,
        desc=t,
    ),
    "gantt": lambda t: gantt_chart(
        [Span(t, t, NOW - timedelta(days=5), NOW + timedelta(days=5))],
        start=NOW - timedelta(days=30),
        end=NOW + timedelta(days=30),
        today=NOW,
        title=t,
        desc=t,
    ),
}


@pytest.mark.parametrize("kind", CHARTS)
def test_a_chart_is_a_described_image_scaled_to_its_container(kind: str) -> None:
    svg = CHARTS[kind]("Health of Acme")
    assert isinstance(svg, Markup)
    root = parse(svg)
    assert root.attrib["role"] == "img" and root.attrib["width"] == "100%"
    assert len(root.attrib["viewBox"].split()) == 4 and "height" not in root.attrib
    assert f"chart-{kind}" in root.attrib["class"].split()
    title, desc = root.find(f"{NS}title"), root.find(f"{NS}desc")
    assert title is not None and desc is not None
    assert title.text == "Health of Acme" and desc.text
    assert root.attrib["aria-labelledby"].split() == [title.attrib["id"], desc.attrib["id"]]


@pytest.mark.parametrize("kind", CHARTS)
def test_every_text_is_escaped_and_nothing_runs_or_loads(kind: str) -> None:
    svg = str(CHARTS[kind](EVIL))
    assert "<script" not in svg and "&lt;script&gt;" in svg
    for forbidden in ("href", "src=", "url(", "<style", "<image", "<foreignObject", " on"):
        assert forbidden not in svg
    root = parse(Markup(svg))
    title = root.find(f"{NS}title")
    assert title is not None and title.text == EVIL  # escaped in the markup, intact as text
    if kind != "sparkline":  # the one chart without labels
        shown = texts(root) + [t for tag in ("rect", "circle", "path") for t in tooltips(root, tag)]
        assert any(EVIL in t for t in shown)


def test_two_charts_on_a_page_do_not_share_ids() -> None:
    first = parse(sparkline([1, 2], title="Acme"))
    second = parse(sparkline([2, 1], title="Acme"))
    assert first.attrib["aria-labelledby"] != second.attrib["aria-labelledby"]
    assert len(find(first, "title")) >= 1
