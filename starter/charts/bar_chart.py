"""A column chart: one bar per category, its value written above it. With the categories of a
scale in order (NPS answers 0..10) it is that scale's histogram."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup

from starter.charts import svg

_HEIGHT = 180
_LEFT, _RIGHT, _TOP, _BOTTOM = 8, 8, 16, 22


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    tone: str = "accent"


def bar_chart(
    bars: Sequence[Bar],
    *,
    title: str,
    desc: str,
    value_format: Callable[[float], str] = svg.num,
) -> Markup:
    """`bars` left to right, from a zero baseline up to the largest value."""
    if not bars:
        return svg.empty(title, desc)
    top = max(max(b.value for b in bars), 0)
    y = svg.Scale(0, top or 1, _HEIGHT - _BOTTOM, _TOP)
    slot = (svg.WIDTH - _LEFT - _RIGHT) / len(bars)
    width = slot * 0.7
    body = [svg.line(_LEFT, y(0), svg.WIDTH - _RIGHT, y(0), svg.tone("neutral"))]
    for i, bar in enumerate(bars):
        left = _LEFT + i * slot + (slot - width) / 2
        middle = left + width / 2
        value = max(bar.value, 0)
        words = value_format(bar.value)
        body.append(
            f'<rect x="{svg.num(left)}" y="{svg.num(y(value))}" width="{svg.num(width)}" '
            f'height="{svg.num(y(0) - y(value))}" fill="{svg.tone(bar.tone)}">'
            f"{svg.tooltip(f'{bar.label}: {words}')}</rect>"
        )
        body.append(svg.text(middle, y(value) - 3, words, anchor="middle", size=svg.SMALL))
        label = svg.shorten(bar.label, max(int(slot / 5.5), 3))
        body.append(svg.text(middle, _HEIGHT - 8, label, anchor="middle", size=svg.SMALL))
    return svg.document(_HEIGHT, title, desc, body, kind="bars")
