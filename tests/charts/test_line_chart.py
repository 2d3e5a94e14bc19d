"""The line chart: values on a fixed range, gaps where there is no value, at most six
category labels with the latest always named, guides and a legend."""

from __future__ import annotations

from starter.charts import Guide, LineSeries, line_chart
from tests.charts.svg_parts import find, parse, points, texts, tooltips

MONTHS = ["Jul", "Aug", "Sep", "Oct", "Nov", "Dec", "Jan", "Feb", "Mar", "Apr", "May", "Jun"]


def test_a_missing_value_breaks_the_line() -> None:
    values = [10.0, 20.0, None, 40.0, 30.0] + [None] * 7
    root = parse(line_chart(MONTHS, [LineSeries("NPS", values)], title="NPS", desc="d",
                            low=-100, high=100))  # fmt: skip
    first, second = find(root, "polyline")
    assert len(points(first)) == 2 and len(points(second)) == 2
    # 40 sits above 30, and both above 10.
    (_, y10), (_, y20) = points(first)
    (_, y40), (_, y30) = points(second)
    assert y40 < y30 < y20 < y10
    assert tooltips(root, "circle") == [
        "NPS, Jul: 10",
        "NPS, Aug: 20",
        "NPS, Oct: 40",
        "NPS, Nov: 30",
    ]


def test_labels_guides_and_legend() -> None:
    root = parse(
        line_chart(
            MONTHS,
            [LineSeries("NPS", [1.0] * 12), LineSeries("CSAT", [2.0] * 12, tone="good")],
            title="t",
            desc="d",
            low=0,
            high=10,
            guides=[Guide(5, "target")],
        )
    )
    shown = texts(root)
    named = [m for m in MONTHS if m in shown]
    assert len(named) == 6 and named[-1] == "Jun"
    assert "target" in shown and "NPS" in shown and "CSAT" in shown
    assert [t for t in shown if t in ("0", "5", "10")] == ["0", "5", "10"]


def test_nothing_to_draw_says_so() -> None:
    root = parse(line_chart(MONTHS, [LineSeries("NPS", [None] * 12)], title="t", desc="d",
                            low=0, high=1))  # fmt: skip
    assert texts(root) == ["No data yet"] and find(root, "polyline") == []
