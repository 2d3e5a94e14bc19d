"""NightlyHealthWorkflow: asks every running journey to recompute its health score.

Run by the `csflow-nightly-health` Temporal Schedule (`starter.api.ensure_nightly_health_schedule`).
Journeys also recompute whenever a health input changes; this catches what time alone moves
(days to renewal, silence since the last touchpoint).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, Field
from temporalio import workflow
from temporalio.exceptions import TemporalError

with workflow.unsafe.imports_passed_through():
    from activities.segment_directory import SegmentDirectoryActivities
    from domain.segment_query import SegmentQuery
    from workflows.activity_calls import call


class HealthRecompute(BaseModel):
    """The `recompute_health` signal a journey accepts."""

    reason: str = "nightly"
    requested_at: datetime | None = None


class NightlyHealthInput(BaseModel):
    segment: SegmentQuery = Field(default_factory=SegmentQuery)
    # Spread the recomputations so the CRM database is not hit by every journey at once.
    per_minute: int = Field(default=600, ge=1)


class NightlyHealthResult(BaseModel):
    signalled: int
    skipped: int


@workflow.defn
class NightlyHealthWorkflow:
    @workflow.run
    async def run(self, input: NightlyHealthInput) -> NightlyHealthResult:
        accounts = await call(SegmentDirectoryActivities.list_segment_accounts, input.segment)
        request = HealthRecompute(reason="nightly", requested_at=workflow.now())
        signalled = skipped = 0
        for index, member in enumerate(accounts.members):
            if index and index % input.per_minute == 0:
                await workflow.sleep(timedelta(minutes=1))
            try:
                await workflow.get_external_workflow_handle(member.journey_id).signal(
                    "recompute_health", request
                )
                signalled += 1
            except TemporalError as exc:
                workflow.logger.warning("no recompute for %s: %s", member.journey_id, exc)
                skipped += 1
        return NightlyHealthResult(signalled=signalled, skipped=skipped)
