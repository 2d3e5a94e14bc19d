"""Column charts (a histogram of a scale) and bars in groups, stacked or side by side: sizes
in proportion to the values, each value written."""

from __future__ import annotations

import pytest

from starter.charts import Bar, BarGroup, BarKey, bar_chart, bar_groups_chart
from tests.charts.svg_parts import find, parse, texts, tooltip_of, tooltips


def test_column_heights_are_in_proportion_to_the_values() -> None:
    scores = [0, 2, 0, 1, 0, 0, 3, 0, 5, 10, 4]
    root = parse(bar_chart([Bar(str(i), n) for i, n in enumerate(scores)], title="t", desc="d"))
    heights = [float(r.attrib["height"]) for r in find(root, "rect")]
    assert len(heights) == 11
    tallest = max(heights)
    assert [round(h / tallest * 10, 6) for h in heights] == scores
    # Left to right in the scale's order, each named with its count.
    assert tooltips(root, "rect") == [f"{i}: {n}" for i, n in enumerate(scores)]


def test_stacked_parts_add_up_to_the_bar() -> None:
    keys = [BarKey("likely", "good"), BarKey("at risk", "warn"), BarKey("churn", "bad")]
    groups = [BarGroup("Next 90 days", [30, 10, 0]), BarGroup("Next 180 days", [60, 20, 20])]
    svg = bar_groups_chart(
        groups, keys, layout="stacked", title="t", desc="d", value_format=lambda v: f"${v:,.0f}"
    )
    root = parse(svg)
    parts = {tip: r for r in find(root, "rect") if (tip := tooltip_of(r)) is not None}
    widths = {tip: float(r.attrib["width"]) for tip, r in parts.items()}
    # No zero-width part; the longest bar (100) spans two and a half times the other (40).
    assert "Next 90 days, churn: $0" not in widths
    assert widths["Next 180 days, likely: $60"] == pytest.approx(
        3 * widths["Next 180 days, at risk: $20"]
    )
    first = sum(w for tip, w in widths.items() if tip.startswith("Next 90"))
    second = sum(w for tip, w in widths.items() if tip.startswith("Next 180"))
    assert second == pytest.approx(2.5 * first)
    assert "$40" in texts(root) and "$100" in texts(root)
    # The parts of a bar lie end to end.
    spans = sorted(
        (float(r.attrib["x"]), float(r.attrib["width"]))
        for tip, r in parts.items()
        if tip.startswith("Next 180")
    )
    for (x1, w1), (x2, _) in zip(spans, spans[1:], strict=False):
        assert x1 + w1 == pytest.approx(x2)


def test_grouped_bars_one_per_key_each_written() -> None:
    keys = [BarKey("planned", "muted"), BarKey("done", "accent")]
    groups = [BarGroup("casey@csflow.example", [12, 9]), BarGroup("robin@csflow.example", [4, 4])]
    root = parse(bar_groups_chart(groups, keys, layout="grouped", title="t", desc="d"))
    assert tooltips(root, "rect") == [
        "casey@csflow.example, planned: 12",
        "casey@csflow.example, done: 9",
        "robin@csflow.example, planned: 4",
        "robin@csflow.example, done: 4",
    ]
    shown = texts(root)
    assert "planned" in shown and "done" in shown and "12" in shown
    # A long name is shortened on the chart (the tooltip keeps it whole).
    assert "casey@csflow.exa…" in shown


def test_no_groups_says_so() -> None:
    root = parse(bar_groups_chart([], [BarKey("a", "good")], layout="grouped", title="t", desc="d"))
    assert texts(root) == ["No data yet"]
