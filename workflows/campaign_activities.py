"""`list_segment_accounts`: the running journeys of a segment, from Temporal visibility.

Workflows cannot call the client, so campaigns and the nightly health fan-out ask this activity.
It needs the worker's Temporal client: `worker.build_worker` registers
`SegmentDirectory(client).list_segment_accounts` next to the CRM activities.
"""

from __future__ import annotations

from pydantic import BaseModel, Field, model_validator
from temporalio import activity
from temporalio.client import Client

from workflows import search_attributes as sa


class SegmentQuery(BaseModel):
    """Exactly `segment`, or every segment key starting with `segment_prefix` (a tier such as
    `enterprise` under dynamic segmentation); neither: every running journey."""

    segment: str | None = None
    segment_prefix: str | None = None
    limit: int = Field(default=10_000, ge=1)

    @model_validator(mode="after")
    def _one_filter(self) -> SegmentQuery:
        if self.segment is not None and self.segment_prefix is not None:
            raise ValueError("give segment or segment_prefix, not both")
        return self

    def visibility_query(self) -> str:
        clauses = ["WorkflowType = 'CustomerJourneyWorkflow'", "ExecutionStatus = 'Running'"]
        if self.segment is not None:
            clauses.append(f"{sa.SEGMENT.name} = {_quote(self.segment)}")
        if self.segment_prefix is not None:
            clauses.append(f"{sa.SEGMENT.name} STARTS_WITH {_quote(self.segment_prefix)}")
        return " AND ".join(clauses)


class SegmentMember(BaseModel):
    account_id: str
    journey_id: str
    segment: str | None = None
    health_score: int | None = None


class SegmentAccounts(BaseModel):
    query: str
    members: list[SegmentMember] = Field(default_factory=list)


def _quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


class SegmentDirectory:
    def __init__(self, client: Client) -> None:
        self._client = client

    @activity.defn(name="list_segment_accounts")
    async def list_segment_accounts(self, query: SegmentQuery) -> SegmentAccounts:
        text = query.visibility_query()
        members: list[SegmentMember] = []
        async for execution in self._client.list_workflows(text):
            attrs = execution.typed_search_attributes
            account_id = attrs.get(sa.CUSTOMER_ID)
            if account_id is None:
                continue
            members.append(
                SegmentMember(
                    account_id=account_id,
                    journey_id=execution.id,
                    segment=attrs.get(sa.SEGMENT),
                    health_score=attrs.get(sa.HEALTH_SCORE),
                )
            )
            if len(members) >= query.limit:
                break
        # Stable order, so a re-run of the campaign walks the accounts the same way.
        members.sort(key=lambda m: m.account_id)
        return SegmentAccounts(query=text, members=members)
