"""A line chart over evenly spaced categories (months, readings): one or more series on a fixed
value range, with optional guide lines (a band's cut-off, zero) and a legend."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup

from starter.charts import svg

_HEIGHT = 200
_LEFT, _RIGHT, _TOP, _BOTTOM = 34, 10, 22, 24
# At most this many category labels under the axis (the others in the points' tooltips).
_MAX_LABELS = 6


@dataclass(frozen=True)
class LineSeries:
    """One line: a value per category (None: no value there, the line breaks)."""

    name: str
    values: Sequence[float | None]
    tone: str = "accent"


@dataclass(frozen=True)
class Guide:
    """A horizontal reference line at `value`, named at its right end."""

    value: float
    label: str
    tone: str = "neutral"


def _runs(points: Sequence[tuple[float, float] | None]) -> list[list[tuple[float, float]]]:
    """The unbroken stretches of a series."""
    runs: list[list[tuple[float, float]]] = [[]]
    for point in points:
        if point is None:
            runs.append([])
        else:
            runs[-1].append(point)
    return [r for r in runs if r]


def _label_every(count: int) -> int:
    return max(1, -(-count // _MAX_LABELS))


def line_chart(
    labels: Sequence[str],
    series: Sequence[LineSeries],
    *,
    title: str,
    desc: str,
    low: float,
    high: float,
    guides: Sequence[Guide] = (),
    value_format: Callable[[float], str] = svg.num,
) -> Markup:
    """Each series' values against `labels` (one per category, in order) on [low, high]."""
    if not labels or not any(v is not None for s in series for v in s.values):
        return svg.empty(title, desc)
    x = svg.Scale(0, max(len(labels) - 1, 1), _LEFT + 6, svg.WIDTH - _RIGHT - 6)
    y = svg.Scale(low, high, _HEIGHT - _BOTTOM, _TOP)
    body: list[str] = []
    for tick in (low, (low + high) / 2, high):
        body.append(svg.line(_LEFT, y(tick), svg.WIDTH - _RIGHT, y(tick), svg.tone("grid")))
        body.append(
            svg.text(_LEFT - 4, y(tick) + 3, value_format(tick), anchor="end", size=svg.SMALL)
        )
    for guide in guides:
        body.append(
            svg.line(
                _LEFT,
                y(guide.value),
                svg.WIDTH - _RIGHT,
                y(guide.value),
                svg.tone(guide.tone),
                dashed=True,
            )
        )
        body.append(
            svg.text(
                svg.WIDTH - _RIGHT,
                y(guide.value) - 3,
                guide.label,
                anchor="end",
                size=svg.SMALL,
                fill=svg.tone(guide.tone),
            )
        )
    every = _label_every(len(labels))
    for i, label in enumerate(labels):
        # Counted back from the last category, so the latest one is always named.
        if (len(labels) - 1 - i) % every == 0:
            body.append(svg.text(x(i), _HEIGHT - 8, label, anchor="middle", size=svg.SMALL))
    for s in series:
        points = [
            None if v is None else (x(i), y(min(max(v, low), high))) for i, v in enumerate(s.values)
        ]
        for run in _runs(points):
            coords = " ".join(f"{svg.num(px)},{svg.num(py)}" for px, py in run)
            body.append(
                f'<polyline points="{coords}" fill="none" stroke="{svg.tone(s.tone)}" '
                'stroke-width="2" stroke-linejoin="round"/>'
            )
        for i, (point, value) in enumerate(zip(points, s.values, strict=False)):
            if point is None or value is None:
                continue
            body.append(
                f'<circle cx="{svg.num(point[0])}" cy="{svg.num(point[1])}" r="2.5" '
                f'fill="{svg.tone(s.tone)}">'
                f"{svg.tooltip(f'{s.name}, {labels[i]}: {value_format(value)}')}</circle>"
            )
    body.extend(_legend(series))
    return svg.document(_HEIGHT, title, desc, body, kind="line")


def _legend(series: Sequence[LineSeries]) -> list[str]:
    if len(series) < 2:
        return []
    parts: list[str] = []
    left = _LEFT
    for s in series:
        parts.append(f'<rect x="{left}" y="6" width="10" height="3" fill="{svg.tone(s.tone)}"/>')
        parts.append(svg.text(left + 14, 11, s.name, size=svg.SMALL))
        left += 24 + 6 * len(s.name)
    return parts
