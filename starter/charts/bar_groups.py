"""Bars in groups, one row per group (a CSM, a renewal window) so long names fit on a phone:
stacked (the parts of one whole, e.g. renewal ARR by likely outcome) or grouped (values side by
side, e.g. tasks planned against tasks done). A legend names the keys."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from markupsafe import Markup

from starter.charts import svg

_LABEL_WIDTH = 112
_VALUE_ROOM = 44
_LEGEND = 22
_BAR = 10


@dataclass(frozen=True)
class BarKey:
    """What one value of every group stands for, and its colour."""

    name: str
    tone: str


@dataclass(frozen=True)
class BarGroup:
    """One row: its label and one value per key, in the keys' order."""

    label: str
    values: Sequence[float]


def _legend(keys: Sequence[BarKey]) -> list[str]:
    parts: list[str] = []
    left = 4.0
    for key in keys:
        parts.append(
            f'<rect x="{svg.num(left)}" y="6" width="9" height="9" fill="{svg.tone(key.tone)}"/>'
        )
        parts.append(svg.text(left + 12, 14, key.name, size=svg.SMALL))
        left += 22 + 5.5 * len(key.name)
    return parts


def _rect(left: float, top: float, width: float, fill: str, note: str) -> str:
    return (
        f'<rect x="{svg.num(left)}" y="{svg.num(top)}" width="{svg.num(max(width, 0))}" '
        f'height="{_BAR}" '
        f'fill="{fill}">{svg.tooltip(note)}</rect>'
    )


BarLayout = Literal["stacked", "grouped"]


def bar_groups_chart(
    groups: Sequence[BarGroup],
    keys: Sequence[BarKey],
    *,
    layout: BarLayout,
    title: str,
    desc: str,
    value_format: Callable[[float], str] = svg.num,
) -> Markup:
    """A row per group under a legend naming the keys. `stacked`: each group's values as the parts
    of one bar, its total written after it; `grouped`: each group's values as thin bars one under
    the other, each value written after its bar."""
    if not groups or not keys:
        return svg.empty(title, desc)
    if layout == "stacked":
        rows = _Rows(groups, keys, _BAR + 10, value_format)
        bars = rows.stacked()
    else:
        rows = _Rows(groups, keys, len(keys) * (_BAR + 2) + 8, value_format)
        bars = rows.grouped()
    body = _legend(keys) + rows.labels() + bars
    return svg.document(rows.top(len(groups)) + 4, title, desc, body, kind=layout)


@dataclass(frozen=True)
class _Rows:
    """The groups drawn one under the other below the legend, each in a row `height` high."""

    groups: Sequence[BarGroup]
    keys: Sequence[BarKey]
    height: float
    value_format: Callable[[float], str]

    def top(self, index: int) -> float:
        return _LEGEND + index * self.height

    def labels(self) -> list[str]:
        return [
            svg.text(4, self.top(i) + self.height / 2 + 4, svg.shorten(g.label, 17), size=svg.SMALL)
            for i, g in enumerate(self.groups)
        ]

    def stacked(self) -> list[str]:
        parts: list[str] = []
        x = _scale(max(sum(max(v, 0) for v in g.values) for g in self.groups))
        for i, group in enumerate(self.groups):
            bar_top = self.top(i) + (self.height - _BAR) / 2
            start = 0.0
            for key, value in zip(self.keys, group.values, strict=True):
                value = max(value, 0)
                if value:
                    note = f"{group.label}, {key.name}: {self.value_format(value)}"
                    parts.append(
                        _rect(
                            x(start), bar_top, x(start + value) - x(start), svg.tone(key.tone), note
                        )
                    )
                start += value
            parts.append(
                svg.text(x(start) + 4, bar_top + _BAR - 1, self.value_format(start), size=svg.SMALL)
            )
        return parts

    def grouped(self) -> list[str]:
        parts: list[str] = []
        x = _scale(max(max((max(v, 0) for v in g.values), default=0) for g in self.groups))
        for i, group in enumerate(self.groups):
            for j, (key, value) in enumerate(zip(self.keys, group.values, strict=True)):
                value = max(value, 0)
                bar_top = self.top(i) + 4 + j * (_BAR + 2)
                note = f"{group.label}, {key.name}: {self.value_format(value)}"
                parts.append(_rect(x(0), bar_top, x(value) - x(0), svg.tone(key.tone), note))
                parts.append(
                    svg.text(
                        x(value) + 4, bar_top + _BAR - 1, self.value_format(value), size=svg.SMALL
                    )
                )
        return parts


def _scale(top: float) -> svg.Scale:
    """From 0 to the largest value (1 when there is none) between the labels and the room for the
    value written after a bar."""
    return svg.Scale(0, top or 1, _LABEL_WIDTH, svg.WIDTH - _VALUE_ROOM)
