"""Email templates: `templates/<name>.subject.j2`, `<name>.txt.j2` and `<name>.html.j2`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    TemplateNotFound,
    UndefinedError,
    select_autoescape,
)

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"


class TemplateProblem(Exception):
    """Unknown template or a context missing a variable the template uses: a caller bug."""


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


QUARTER_HOUR = timedelta(minutes=15)


def zone_of(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def next_quarter_hour(value: datetime) -> datetime:
    """`value` rounded up to a quarter hour (a meeting never starts at 12:02:12)."""
    epoch = datetime(2000, 1, 1, tzinfo=UTC)
    steps = -((epoch - value.astimezone(UTC)) // QUARTER_HOUR)
    return epoch + steps * QUARTER_HOUR


def _as_datetime(value: datetime | str) -> datetime:
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def day_in_words(value: date | datetime | str) -> str:
    """`2028-12-01` as "1 December 2028"."""
    day = date.fromisoformat(value[:10]) if isinstance(value, str) else value
    return f"{day.day} {day:%B %Y}"


def moment_in_words(value: datetime | str, timezone: str | None = None) -> str:
    """A time as people write it, in the reader's zone, to the nearest quarter hour:
    "Tuesday 5 January 2027 at 14:15 CET"."""
    moment = _as_datetime(value)
    nearest = next_quarter_hour(moment - QUARTER_HOUR / 2)
    local = nearest.astimezone(zone_of(timezone))
    return f"{local:%A} {day_in_words(local)} at {local:%H:%M %Z}"


@cache
def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default=False),
        # A missing variable is an error, not a silently blank greeting in a customer's inbox.
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["day"] = day_in_words
    env.filters["moment"] = moment_in_words
    return env


def available_templates() -> list[str]:
    """Email templates (files starting with `_` are the parts they share)."""
    return sorted(
        p.name.removesuffix(".txt.j2")
        for p in TEMPLATES_DIR.glob("*.txt.j2")
        if not p.name.startswith("_")
    )


def render_email(
    template: str, context: dict[str, Any], subject: str | None = None
) -> RenderedEmail:
    """Render the text and HTML bodies (and the default subject unless `subject` is given)."""
    if template not in available_templates():
        raise TemplateProblem(f"unknown email template {template!r}")
    env = _environment()
    try:
        if subject is None:
            subject = env.get_template(f"{template}.subject.j2").render(context)
        text = env.get_template(f"{template}.txt.j2").render(context)
        html = env.get_template(f"{template}.html.j2").render(context)
    except (UndefinedError, TemplateNotFound) as err:
        raise TemplateProblem(f"template {template!r}: {err}") from err
    # Header injection guard: a subject is one line.
    subject = " ".join(subject.split())
    if not subject:
        raise TemplateProblem(f"template {template!r} rendered an empty subject")
    return RenderedEmail(subject=subject, text=text, html=html)
