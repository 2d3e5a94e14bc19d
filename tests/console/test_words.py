"""The console's words for values: dates said from now, stored values as words (the CRM writes
its own timeline entries in the same words: tests/activities/test_timeline_words.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from domain.models import ContactRole, HealthBand, LifecycleStage, Segment
from starter.console.words import count, day, due, duration, moment, person, plain, word

NOW = datetime(2026, 12, 1, 15, 30, tzinfo=UTC)  # a Tuesday


@pytest.mark.parametrize(
    ("at", "said"),
    [
        (None, "no due date"),
        (NOW - timedelta(days=2), "overdue by 2 days"),
        (NOW - timedelta(days=1, hours=1), "overdue by 1 day"),
        (NOW.replace(hour=9, minute=0), "was due today at 09:00 UTC"),
        (NOW.replace(hour=17, minute=0), "due today at 17:00 UTC"),
        (NOW + timedelta(days=1), "due tomorrow at 15:30 UTC"),
        (NOW + timedelta(days=3), "due Friday at 15:30 UTC"),
        (NOW + timedelta(days=20), "due 21 Dec 2026"),
    ],
)
def test_a_due_time_is_said_from_now(at: datetime | None, said: str) -> None:
    assert due(at, NOW) == said


def test_values_are_words_never_stored_values() -> None:
    assert word(LifecycleStage.AT_RISK) == "At risk"
    assert word(Segment.MID_MARKET) == "Mid-market"
    assert word(HealthBand.HEALTHY) == "Healthy"
    assert word(ContactRole.DECISION_MAKER) == "Decision maker"
    assert word("latest_nps") == "Latest NPS answer"
    assert word(None) == "-"
    assert [plain(v) for v in (None, True, 1500.0, 2.5, date(2026, 3, 4))] == [
        "-",
        "yes",
        "1,500",
        "2.50",
        "4 Mar 2026",
    ]
    assert plain(timedelta(hours=5)) == "5 hours"
    assert moment(NOW) == "Tue 1 Dec 2026, 15:30 UTC"
    assert day(NOW) == "1 Dec 2026"
    assert [duration(timedelta(seconds=s)) for s in (20, 600, 7200, 3 * 86400)] == [
        "1 minute",
        "10 minutes",
        "2 hours",
        "3 days",
    ]
    assert (count(1, "task"), count(2, "task"), count(2, "call", "calls or notes")) == (
        "1 task",
        "2 tasks",
        "2 calls or notes",
    )
    assert person("casey.csm@csflow.example") == "Casey"
    assert person("casey.csm@csflow.example", {"casey.csm@csflow.example": "Casey Jones"}) == (
        "Casey Jones"
    )
