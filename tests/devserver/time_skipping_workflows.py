"""Workflows for the time-skipping tests."""

from __future__ import annotations

from datetime import timedelta

from temporalio import activity, workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    pass


@workflow.defn
class RenewalCountdown:
    """Sleeps until a contract's renewal window, as a renewal workflow would."""

    @workflow.run
    async def run(self, days: int) -> int:
        started = workflow.now()
        await workflow.sleep(timedelta(days=days))
        return (workflow.now() - started).days


@workflow.defn
class WeeklyCheckIns:
    """One timer per week for a year: the shape of a long customer cadence."""

    @workflow.run
    async def run(self, weeks: int) -> int:
        for _ in range(weeks):
            await workflow.sleep(timedelta(weeks=1))
        return weeks


@workflow.defn
class WaitForReplyOrTimeout:
    def __init__(self) -> None:
        self.replied = False

    @workflow.run
    async def run(self) -> str:
        try:
            await workflow.wait_condition(lambda: self.replied, timeout=timedelta(days=14))
            return "replied"
        except TimeoutError:
            return "no reply after 14 days"

    @workflow.signal
    def reply(self) -> None:
        self.replied = True


ATTEMPT_TIMES: list[float] = []


@activity.defn
async def flaky_crm_sync() -> str:
    info = activity.info()
    ATTEMPT_TIMES.append(info.current_attempt_scheduled_time.timestamp())
    if info.attempt < 3:
        raise ApplicationError("CRM unavailable")
    return f"synced on attempt {info.attempt}"


@workflow.defn
class SyncWithHourlyBackoff:
    @workflow.run
    async def run(self) -> str:
        return await workflow.execute_activity(
            flaky_crm_sync,
            start_to_close_timeout=timedelta(seconds=10),
            retry_policy=RetryPolicy(initial_interval=timedelta(hours=1), backoff_coefficient=2.0),
        )
