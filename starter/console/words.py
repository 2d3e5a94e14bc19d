"""Values as the console writes them for people: dates and times in words, priorities, stages,
kinds and roles as words (never an enum's value), money and counts, and `-` for nothing. The
templates use these as Jinja filters (starter.console.pages registers them)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from enum import Enum
from typing import Any

from domain.people import display_name
from domain.words import in_words

NOTHING = "-"


def word(value: Any) -> str:
    """An enum member (or its value) as a word (`domain.words.in_words`, the words the CRM's own
    timeline entries use): `at_risk` -> "At risk", `onboarding` -> "Onboarding"."""
    if value is None or value == "":
        return NOTHING
    return in_words(value if isinstance(value, Enum) else str(value))


def moment(value: datetime | None) -> str:
    """`Tue 1 Dec 2026, 14:05 UTC`."""
    if value is None:
        return NOTHING
    at = value.astimezone(UTC)
    return f"{at:%a} {at.day} {at:%b %Y, %H:%M} UTC"


def day(value: date | datetime | None) -> str:
    """`1 Dec 2026`."""
    if value is None:
        return NOTHING
    if isinstance(value, datetime):
        value = value.astimezone(UTC).date()
    return f"{value.day} {value:%b %Y}"


def count(amount: int, one: str, many: str | None = None) -> str:
    """`1 task`, `3 tasks`; `many` where adding an s is wrong."""
    return f"{amount} {one}" if amount == 1 else f"{amount} {many or one + 's'}"


def due(value: datetime | None, now: datetime) -> str:
    """When a task falls due, said from `now`: `overdue by 3 days`, `due today at 14:00 UTC`
    (`was due` once past), `due tomorrow at 09:00 UTC`, `due Friday at 09:00 UTC` within the
    week, `due 8 Dec 2026` later, `no due date`."""
    if value is None:
        return "no due date"
    at, now = value.astimezone(UTC), now.astimezone(UTC)
    days = (at.date() - now.date()).days
    if at < now and days < 0:
        return f"overdue by {count(-days, 'day')}"
    if days == 0:
        return f"{'was due' if at < now else 'due'} today at {at:%H:%M} UTC"
    if days == 1:
        return f"due tomorrow at {at:%H:%M} UTC"
    if days < 7:
        return f"due {at:%A} at {at:%H:%M} UTC"
    return f"due {day(at)}"


def ago(value: datetime | None, now: datetime) -> str:
    """`today`, `yesterday`, `5 days ago`."""
    if value is None:
        return NOTHING
    days = (now.astimezone(UTC).date() - value.astimezone(UTC).date()).days
    if days <= 0:
        return "today"
    return "yesterday" if days == 1 else f"{days} days ago"


def money(value: float | None) -> str:
    """`250,000` (ARR and contract values carry no currency in the CRM)."""
    if value is None:
        return NOTHING
    return f"{value:,.0f}"


def duration(span: timedelta | None) -> str:
    """`3 days`, `5 hours`, `14 minutes` (a part of a minute counts as one)."""
    if span is None:
        return NOTHING
    seconds = max(span.total_seconds(), 0)
    hours = int(seconds // 3600)
    if hours >= 48:
        return count(hours // 24, "day")
    if hours >= 1:
        return count(hours, "hour")
    return count(max(-int(-seconds // 60), 1), "minute")


def person(email: str | None, names: Mapping[str, str] | None = None) -> str:
    """A team member by name (CSFLOW_TEAM_NAMES, else from the address)."""
    return display_name(email, names) if email else NOTHING


def plain(value: Any) -> str:
    """Any value as text people read: words for enums and booleans, dates as dates."""
    if value is None or value == "":
        return NOTHING
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Enum):
        return word(value)
    if isinstance(value, datetime):
        return moment(value)
    if isinstance(value, date):
        return day(value)
    if isinstance(value, timedelta):
        return duration(value)
    if isinstance(value, float):
        return f"{value:,.0f}" if value.is_integer() else f"{value:,.2f}"
    return str(value)
