"""A sparkline: a word-sized line of a series (a health score's last readings), oldest first,
the latest reading marked with a dot."""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup

from starter.charts import svg

_WIDTH = 100
_HEIGHT = 24
_PAD = 3


def describe(values: Sequence[float]) -> str:
    """The series in words: where it started and ended, its lowest and highest reading."""
    if not values:
        return "No readings yet."
    if len(values) == 1:
        return f"One reading: {svg.num(values[0])}."
    return (
        f"{len(values)} readings, from {svg.num(values[0])} to {svg.num(values[-1])}; "
        f"lowest {svg.num(min(values))}, highest {svg.num(max(values))}."
    )


def sparkline(
    values: Sequence[float],
    *,
    title: str,
    desc: str | None = None,
    low: float = 0,
    high: float = 100,
    line_tone: str = "accent",
) -> Markup:
    """`values` (oldest first) on a fixed [low, high] scale, so two sparklines compare; `desc`
    defaults to the series in words."""
    x = svg.Scale(0, max(len(values) - 1, 1), _PAD, _WIDTH - _PAD)
    y = svg.Scale(low, high, _HEIGHT - _PAD, _PAD)
    points = [(x(i), y(min(max(v, low), high))) for i, v in enumerate(values)]
    body = [svg.line(0, y(low), _WIDTH, y(low), svg.tone("grid"))]
    if len(points) > 1:
        coords = " ".join(f"{svg.num(px)},{svg.num(py)}" for px, py in points)
        body.append(
            f'<polyline points="{coords}" fill="none" stroke="{svg.tone(line_tone)}" '
            'stroke-width="1.5" stroke-linejoin="round" stroke-linecap="round"/>'
        )
    if points:
        last_x, last_y = points[-1]
        body.append(
            f'<circle cx="{svg.num(last_x)}" cy="{svg.num(last_y)}" r="2.2" '
            f'fill="{svg.tone(line_tone)}">'
            f"{svg.tooltip(f'Latest: {svg.num(values[-1])}')}</circle>"
        )
    return svg.document(
        _HEIGHT, title, desc or describe(values), body, width=_WIDTH, kind="sparkline"
    )
