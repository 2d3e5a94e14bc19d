"""Activity tests: the shared store, outbox and activities (tests/support/crm_fixtures.py), at a
fixed time."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.support.cs_support import TestClock

# A Wednesday, 15:00 UTC: working hours for every contact zone the fixtures use (New York,
# Berlin, UTC), so the contact governor's quiet hours never depend on when the suite runs.
WORKING_HOURS = datetime(2026, 11, 18, 15, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> TestClock:
    return TestClock(WORKING_HOURS)
