"""Durations as people write them ("8 hours", "10 days", "1 hour 30 minutes"), for anything a
customer or a CSM reads; never a raw `timedelta` ("8:00:00", "10 days, 0:00:00")."""

from __future__ import annotations

from datetime import timedelta


def in_words(duration: timedelta) -> str:
    """At most two units: "2 weeks", "3 days 4 hours", "1 hour 30 minutes", "45 minutes"."""
    seconds = int(duration.total_seconds())
    if seconds < 60:
        return "less than a minute"
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        if days % 7 == 0 and not hours:
            return _count(days // 7, "week")
        return _join(_count(days, "day"), _count(hours, "hour"))
    if hours:
        return _join(_count(hours, "hour"), _count(minutes, "minute"))
    return _count(minutes, "minute")


def _count(number: int, unit: str) -> str:
    return "" if number == 0 else f"{number} {unit}{'' if number == 1 else 's'}"


def _join(*parts: str) -> str:
    return " ".join(p for p in parts if p)
