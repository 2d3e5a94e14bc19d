"""CampaignWorkflow: one message to every running journey of a segment, rate limited.

Renewal outreach and feature-release announcements. Started once (`campaign-<id>`) or by a
Temporal Schedule (`starter.api.schedule_campaign`; each scheduled run gets its own id). The
segment's journeys come from `list_segment_accounts`; each gets a `campaign_message` signal,
at most `per_minute` a minute (timers between batches). The journey sends the email once per
campaign run id, so a re-delivered signal does not email twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field
from temporalio import workflow
from temporalio.exceptions import TemporalError

with workflow.unsafe.imports_passed_through():
    from activities.segment_directory import SegmentDirectoryActivities
    from domain.segment_query import SegmentQuery
    from workflows.activity_calls import call


class CampaignKind(StrEnum):
    RENEWAL_OUTREACH = "renewal_outreach"
    FEATURE_RELEASE = "feature_release"


class CampaignInput(BaseModel):
    campaign_id: str = Field(min_length=1, max_length=80)
    kind: CampaignKind
    segment: SegmentQuery = Field(default_factory=SegmentQuery)
    # Template defaults to the journey's playbook policy for the kind.
    template: str | None = None
    context: dict[str, Any] = Field(default_factory=dict)
    per_minute: int = Field(default=60, ge=1)


class CampaignMessage(BaseModel):
    """What a journey receives; `campaign_run_id` is the dedupe key (one email per run)."""

    campaign_run_id: str
    kind: CampaignKind
    template: str | None = None
    context: dict[str, Any] = Field(default_factory=dict)


class CampaignResult(BaseModel):
    campaign_run_id: str
    targeted: int
    delivered: int
    skipped: list[str] = Field(default_factory=list)
    batches: int
    started_at: datetime
    finished_at: datetime


def campaign_workflow_id(campaign_id: str) -> str:
    return f"campaign-{campaign_id}"


@workflow.defn
class CampaignWorkflow:
    def __init__(self) -> None:
        self._delivered = 0

    @workflow.query
    def delivered(self) -> int:
        return self._delivered

    @workflow.run
    async def run(self, input: CampaignInput) -> CampaignResult:
        run_id = workflow.info().workflow_id
        started = workflow.now()
        accounts = await call(SegmentDirectoryActivities.list_segment_accounts, input.segment)
        message = CampaignMessage(
            campaign_run_id=run_id,
            kind=input.kind,
            template=input.template,
            context=dict(input.context),
        )
        skipped: list[str] = []
        batches = 0
        for index, member in enumerate(accounts.members):
            if index % input.per_minute == 0:
                if index:
                    await workflow.sleep(timedelta(minutes=1))
                batches += 1
            try:
                await workflow.get_external_workflow_handle(member.journey_id).signal(
                    "campaign_message", message
                )
                self._delivered += 1
            except TemporalError as exc:
                # The journey closed after the listing: nothing to tell it.
                workflow.logger.warning("campaign skipped %s: %s", member.journey_id, exc)
                skipped.append(member.account_id)
        return CampaignResult(
            campaign_run_id=run_id,
            targeted=len(accounts.members),
            delivered=self._delivered,
            skipped=skipped,
            batches=batches,
            started_at=started,
            finished_at=workflow.now(),
        )
