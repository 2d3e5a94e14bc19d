"""Server-side SVG charts for the CS console: each function returns the `<svg>` as
`markupsafe.Markup` (Jinja inserts it unescaped), an image with a `<title>` and a `<desc>`, every
text in it escaped, no script and nothing fetched. They scale to their container's width."""

from starter.charts.bar_chart import Bar, bar_chart
from starter.charts.bar_groups import BarGroup, BarKey, BarLayout, bar_groups_chart
from starter.charts.gantt import GanttItem, GanttMark, Mark, Span, gantt_chart
from starter.charts.line_chart import Guide, LineSeries, line_chart
from starter.charts.sparkline import sparkline

__all__ = [
    "Bar",
    "BarGroup",
    "BarKey",
    "BarLayout",
    "GanttItem",
    "GanttMark",
    "Guide",
    "LineSeries",
    "Mark",
    "Span",
    "bar_chart",
    "bar_groups_chart",
    "gantt_chart",
    "line_chart",
    "sparkline",
]
