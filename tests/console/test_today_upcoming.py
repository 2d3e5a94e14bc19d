"""A CSM's day lists what comes next, not everything: the next 20 upcoming tasks by due date,
with the count of the rest (hundreds of later tasks would bury the day)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from activities import Activities
from crm.database import Store
from domain.models import TaskInput
from starter.console.today import UPCOMING_SHOWN, _day
from tests.support.cs_support import seed_account

NOW = datetime(2026, 11, 18, 9, 0, tzinfo=UTC)
OWNER = "casey@example.com"


async def test_the_day_shows_the_next_upcoming_tasks_and_counts_the_rest(
    store: Store, acts: Activities
) -> None:
    await seed_account(acts)
    for n in range(30, 0, -1):  # created latest-due first
        acts.crm.create_task_once(
            TaskInput(
                account_id="acme",
                owner=OWNER,
                title=f"Task due in {n} days",
                due_at=NOW + timedelta(days=n),
                idempotency_key=f"upcoming:{n}",
            )
        )
    day = await _day(store, OWNER, NOW)
    assert day.upcoming_total == 30
    assert [t.title for t in day.upcoming] == [
        f"Task due in {n} days" for n in range(1, UPCOMING_SHOWN + 1)
    ]
