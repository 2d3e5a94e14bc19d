"""Activity tests: the shared store and outbox fixtures (tests/crm_fixtures.py), at a fixed time."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from activities.clock import use_clock

# A Wednesday, 15:00 UTC: working hours for every contact zone the fixtures use (New York,
# Berlin, UTC), so the contact governor's quiet hours never depend on when the suite runs.
WORKING_HOURS = datetime(2026, 11, 18, 15, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def working_hours_clock() -> Iterator[datetime]:
    use_clock(lambda: WORKING_HOURS)
    yield WORKING_HOURS
    use_clock(None)
