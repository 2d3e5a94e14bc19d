"""`list_segment_accounts`: the active accounts of a segment, read from the CRM.

Campaigns and the nightly health fan-out take their targets from the CRM, where the journeys keep
each account's segment and lifecycle stage current, rather than from Temporal visibility: the
CRM is the source of truth for segments, and the activity then works on every Temporal server
(Temporal's time-skipping test server has no visibility API).
"""

from __future__ import annotations

from sqlmodel import col, select
from temporalio import activity

from activities.context import in_thread
from crm.database import Store
from crm.tables import AccountRow
from domain.models import LifecycleStage
from domain.segment_query import SegmentAccounts, SegmentMember, SegmentQuery
from workflows.workflow_ids import journey_id


class SegmentDirectoryActivities:
    """`list_segment_accounts`, read from one store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    @activity.defn(name="list_segment_accounts")
    async def list_segment_accounts(self, input: SegmentQuery) -> SegmentAccounts:
        return await in_thread(self._list, input)

    def _list(self, query: SegmentQuery) -> SegmentAccounts:
        members: list[SegmentMember] = []
        with self.store.session() as session:
            rows = session.exec(
                select(AccountRow)
                .where(AccountRow.lifecycle_stage != LifecycleStage.CHURNED.value)
                .order_by(col(AccountRow.id))
            )
            for row in rows:
                # Before its first health score an account has its tier only.
                key = row.segment_key or row.segment
                if not query.matches(key):
                    continue
                members.append(
                    SegmentMember(
                        account_id=row.id,
                        journey_id=journey_id(row.id),
                        segment=key,
                        health_score=row.health_score,
                    )
                )
                if len(members) >= query.limit:
                    break
        return SegmentAccounts(query=query.describe(), members=members)
