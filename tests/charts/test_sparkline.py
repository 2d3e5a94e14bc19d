"""The sparkline: its points follow the data on a fixed scale, the latest reading is marked."""

from __future__ import annotations

from starter.charts import sparkline
from tests.charts.svg_parts import find, parse, points


def test_points_follow_the_data_oldest_first() -> None:
    values = [70, 55, 90, 40]
    root = parse(sparkline(values, title="Health"))
    (line,) = find(root, "polyline")
    drawn = points(line)
    assert len(drawn) == len(values)
    xs = [x for x, _ in drawn]
    assert xs == sorted(xs) and len(set(xs)) == len(xs)
    # Higher scores are drawn higher up (smaller y), in the same order as the values.
    by_height = [v for _, v in sorted(zip([y for _, y in drawn], values, strict=True))]
    assert by_height == sorted(values, reverse=True)
    (dot,) = find(root, "circle")
    assert (float(dot.attrib["cx"]), float(dot.attrib["cy"])) == drawn[-1]


def test_the_scale_is_fixed_so_two_sparklines_compare() -> None:
    low = points(find(parse(sparkline([10, 20], title="a")), "polyline")[0])
    high = points(find(parse(sparkline([80, 90], title="b")), "polyline")[0])
    assert low[0][1] > high[0][1]  # 10 sits lower than 80 on the same 0..100 scale
    # Out-of-range readings are pinned to the edge, not drawn outside the box.
    clipped = points(find(parse(sparkline([-50, 150], title="c")), "polyline")[0])
    assert all(0 <= y <= 24 for _, y in clipped)


def test_its_description_says_the_series_in_words() -> None:
    root = parse(sparkline([72, 41], title="Health"))
    desc = root.find("{http://www.w3.org/2000/svg}desc")
    assert desc is not None and desc.text == "2 readings, from 72 to 41; lowest 41, highest 72."
    assert find(parse(sparkline([], title="Health")), "polyline") == []
    one = parse(sparkline([60], title="Health"))
    assert find(one, "polyline") == [] and len(find(one, "circle")) == 1
