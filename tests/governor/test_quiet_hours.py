"""Quiet-hours arithmetic in the contact's zone, including daylight-saving changes."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from domain.contact_policy import ContactPolicy, next_allowed_time

NEW_YORK = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
TOKYO = ZoneInfo("Asia/Tokyo")
POLICY = ContactPolicy()


@pytest.mark.parametrize(
    ("now", "zone", "expected"),
    [
        # Wednesday 15:00 UTC: 10:00 in New York, 16:00 Berlin -> allowed
        (datetime(2026, 11, 18, 15, 0, tzinfo=UTC), NEW_YORK, None),
        (datetime(2026, 11, 18, 15, 0, tzinfo=UTC), BERLIN, None),
        # ... but 00:00 Thursday in Tokyo -> 08:00 Tokyo = 23:00 UTC
        (
            datetime(2026, 11, 18, 15, 0, tzinfo=UTC),
            TOKYO,
            datetime(2026, 11, 18, 23, 0, tzinfo=UTC),
        ),
        # Tuesday 21:00 New York (02:00 UTC Wed) -> Wednesday 08:00 EST = 13:00 UTC
        (
            datetime(2026, 11, 18, 2, 0, tzinfo=UTC),
            NEW_YORK,
            datetime(2026, 11, 18, 13, 0, tzinfo=UTC),
        ),
        # Exactly 08:00 local is allowed; 07:59 is not
        (datetime(2026, 11, 18, 13, 0, tzinfo=UTC), NEW_YORK, None),
        (
            datetime(2026, 11, 18, 12, 59, tzinfo=UTC),
            NEW_YORK,
            datetime(2026, 11, 18, 13, 0, tzinfo=UTC),
        ),
        # Friday 20:30 Berlin -> weekend -> Monday 08:00 CET = 07:00 UTC
        (
            datetime(2026, 11, 20, 19, 30, tzinfo=UTC),
            BERLIN,
            datetime(2026, 11, 23, 7, 0, tzinfo=UTC),
        ),
        # DST edge: Saturday 7 March 2026 in New York is EST; clocks spring forward on Sunday
        # the 8th, so Monday 08:00 local is EDT = 12:00 UTC (not 13:00 as in winter).
        (
            datetime(2026, 3, 7, 17, 0, tzinfo=UTC),
            NEW_YORK,
            datetime(2026, 3, 9, 12, 0, tzinfo=UTC),
        ),
        # Fall back: Friday 30 Oct 2026 22:00 CEST in Berlin -> Monday 2 Nov 08:00 CET = 07:00
        (
            datetime(2026, 10, 30, 20, 0, tzinfo=UTC),
            BERLIN,
            datetime(2026, 11, 2, 7, 0, tzinfo=UTC),
        ),
    ],
)
def test_next_allowed_time(now: datetime, zone: ZoneInfo, expected: datetime | None) -> None:
    assert next_allowed_time(now, zone, POLICY) == expected


def test_quiet_end_inside_a_spring_forward_gap_lands_after_it() -> None:
    # 02:30 does not exist in New York on 8 March 2026 (02:00 EST jumps to 03:00 EDT).
    policy = ContactPolicy(quiet_start=time(23, 0), quiet_end=time(2, 30), quiet_weekends=False)
    now = datetime(2026, 3, 8, 6, 0, tzinfo=UTC)  # 01:00 EST
    allowed = next_allowed_time(now, NEW_YORK, policy)
    assert allowed == datetime(2026, 3, 8, 7, 30, tzinfo=UTC)  # 03:30 EDT, the first real instant
    assert allowed is not None and not policy.is_quiet(allowed.astimezone(NEW_YORK))


def test_weekends_can_be_allowed() -> None:
    policy = ContactPolicy(quiet_weekends=False)
    saturday_noon = datetime(2026, 11, 21, 11, 0, tzinfo=UTC)
    assert next_allowed_time(saturday_noon, BERLIN, policy) is None
    assert next_allowed_time(saturday_noon, BERLIN, POLICY) == datetime(
        2026, 11, 23, 7, 0, tzinfo=UTC
    )


def test_policy_rejects_a_week_without_allowed_days() -> None:
    with pytest.raises(ValueError, match="weekend_days"):
        ContactPolicy(weekend_days=frozenset(range(7)))
