"""What every chart shares: the `<svg>` frame with its text alternatives, escaped text, numbers
written short, a linear scale and the palette.

A chart is drawn in a small coordinate space (about 400 units wide) and scaled to its container
(`width="100%"` and a viewBox), so its text stays legible on a 390 px phone screen.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH = 400
FONT_SIZE = 11
SMALL = 9.5

# Tones, each dark enough for text on white and told apart by more than hue where it matters.
TONES = {
    "accent": "#1f5fa8",
    "good": "#2e7d32",
    "warn": "#a35c00",
    "bad": "#b3261e",
    "neutral": "#5f6368",
    "muted": "#b8bcc2",
    "grid": "#e3e5e8",
    "ink": "#202124",
}


def tone(name: str) -> str:
    """The colour of a named tone (an unknown name is the neutral grey)."""
    return TONES.get(name, TONES["neutral"])


def num(value: float, decimals: int = 1) -> str:
    """A coordinate or a value written short: `12`, `12.5`, never `12.500000001`."""
    text = f"{value:.{decimals}f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def text(
    x: float,
    y: float,
    content: str,
    *,
    anchor: str = "start",
    size: float = FONT_SIZE,
    fill: str = TONES["ink"],
    bold: bool = False,
) -> str:
    """A `<text>` element; `content` is escaped."""
    weight = ' font-weight="600"' if bold else ""
    return (
        f'<text x="{num(x)}" y="{num(y)}" text-anchor="{anchor}" font-size="{num(size)}" '
        f'fill="{fill}"{weight}>{escape(content)}</text>'
    )


def tooltip(content: str) -> str:
    """A `<title>` child: the browser's tooltip, and what a screen reader says for the shape."""
    return f"<title>{escape(content)}</title>"


def line(x1: float, y1: float, x2: float, y2: float, stroke: str, *, dashed: bool = False) -> str:
    dash = ' stroke-dasharray="3 3"' if dashed else ""
    return (
        f'<line x1="{num(x1)}" y1="{num(y1)}" x2="{num(x2)}" y2="{num(y2)}" '
        f'stroke="{stroke}" stroke-width="1"{dash}/>'
    )


def shorten(content: str, limit: int) -> str:
    """`content` cut to `limit` characters with an ellipsis (the full text goes in a tooltip)."""
    return content if len(content) <= limit else content[: max(limit - 1, 1)].rstrip() + "…"


@dataclass(frozen=True)
class Scale:
    """Maps values in [low, high] linearly onto [start, end] (which may run backwards, as a
    y axis does); a flat domain maps to the middle."""

    low: float
    high: float
    start: float
    end: float

    def __call__(self, value: float) -> float:
        if self.high == self.low:
            return (self.start + self.end) / 2
        return self.start + (value - self.low) / (self.high - self.low) * (self.end - self.start)


def document(
    height: float,
    title: str,
    desc: str,
    body: Iterable[str],
    *,
    width: float = WIDTH,
    kind: str = "chart",
) -> Markup:
    """The `<svg>` element: an image whose name is `title` and whose description is `desc`;
    its classes `chart chart-<kind>` let the page's stylesheet size it (no inline style)."""
    parts = "".join(body)
    # Ids unique per chart (two charts on a page must not share them), stable per content.
    digest = hashlib.sha256(f"{title}\0{desc}\0{parts}".encode()).hexdigest()[:10]
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {num(width)} {num(height)}" '
        f'width="100%" role="img" aria-labelledby="t-{digest} d-{digest}" '
        f'font-family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif" '
        f'font-size="{FONT_SIZE}" class="chart chart-{kind}">'
        f'<title id="t-{digest}">{escape(title)}</title>'
        f'<desc id="d-{digest}">{escape(desc)}</desc>'
        f"{parts}</svg>"
    )


def empty(title: str, desc: str, message: str = "No data yet", height: float = 40) -> Markup:
    """A chart with nothing to draw: its name and the message instead."""
    return document(
        height, title, desc, [text(WIDTH / 2, height / 2 + 4, message, anchor="middle")]
    )
