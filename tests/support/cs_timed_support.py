"""Activity doubles that also record *when* (in server time) each call was scheduled.

On Temporal's time-skipping test server, `activity.info().scheduled_time` is virtual time, so
tests can assert "the manager was alerted 1 hour after the escalation opened" without wall-clock
waits. Kept out of test modules so the worker can import it without pytest's assertion
rewriting."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

from temporalio import activity
from temporalio.testing import WorkflowEnvironment

from domain.models import (
    Contract,
    ContractOutcome,
    CsmAlert,
    CsmTask,
    EmailReceipt,
    EmailRequest,
    Survey,
    SurveyRequest,
    TaskInput,
)
from tests.support.cs_doubles import FakeCrm


class TimedCrm(FakeCrm):
    """FakeCrm whose side-effecting activities also note their (virtual) scheduled time."""

    def __init__(self) -> None:
        super().__init__()
        self.timeline: list[tuple[datetime, str, Any]] = []

    def _note(self, name: str, arg: Any) -> None:
        self.timeline.append((activity.info().scheduled_time, name, arg))

    def at(self, name: str) -> list[tuple[datetime, Any]]:
        return [(when, arg) for when, called, arg in self.timeline if called == name]

    @activity.defn(name="alert_csm")
    async def alert_csm(self, alert: CsmAlert) -> CsmTask:
        self._note("alert_csm", alert)
        return await super().alert_csm(alert)

    @activity.defn(name="send_email")
    async def send_email(self, request: EmailRequest) -> EmailReceipt:
        self._note("send_email", request)
        return await super().send_email(request)

    @activity.defn(name="create_csm_task")
    async def create_csm_task(self, task: TaskInput) -> CsmTask:
        self._note("create_csm_task", task)
        return await super().create_csm_task(task)

    @activity.defn(name="create_survey")
    async def create_survey(self, request: SurveyRequest) -> Survey:
        self._note("create_survey", request)
        return await super().create_survey(request)

    @activity.defn(name="record_contract_outcome")
    async def record_contract_outcome(self, outcome: ContractOutcome) -> Contract:
        self._note("record_contract_outcome", outcome)
        return await super().record_contract_outcome(outcome)


def offset(start: datetime, at: datetime, unit: timedelta = timedelta(minutes=1)) -> int:
    """Whole `unit`s (rounded) from `start` to `at`: absorbs the milliseconds real work takes."""
    return round((at - start) / unit)


async def align_to(env: WorkflowEnvironment, hour: int, minute: int = 0) -> datetime:
    """Skip virtual time to the next HH:MM UTC, so day counts in a test are deterministic."""
    now = await env.get_current_time()
    target = datetime.combine(now.date(), time(hour, minute), tzinfo=UTC)
    if target <= now:
        target += timedelta(days=1)
    await env.sleep(target - now)
    return await env.get_current_time()
