"""`record_handoff`: the CRM's copy of a process-map milestone, and its audit trail."""

from __future__ import annotations

from sqlmodel import select
from temporalio import activity

from activities.context import activity_logger, in_thread
from crm.database import Store
from crm.tables import HandoffRow
from crm.timeline import record_touchpoint
from domain.handoffs import HandoffUpdate
from domain.models import TouchpointKind

_ROW_FIELDS = (
    "milestone_id",
    "cycle",
    "function",
    "title",
    "owner",
    "map_version",
    "state",
    "starts_at",
    "due_at",
    "opened_at",
    "done_at",
    "done_by",
    "evidence",
    "escalated_at",
    "blocker",
    "task_id",
    "workflow_id",
)


class HandoffActivities:
    def __init__(self, store: Store) -> None:
        self.store = store

    @activity.defn(name="record_handoff")
    async def record_handoff(self, update: HandoffUpdate) -> None:
        """Upsert the milestone's row and put the change on the account's timeline, in one
        transaction; a retry finds the timeline entry by its key and changes nothing more."""
        await in_thread(self._record, update)
        activity_logger(account_id=update.account_id, step=update.milestone_id).info(
            "handoff recorded", state=update.state.value, actor=update.actor
        )

    def _record(self, update: HandoffUpdate) -> None:
        with self.store.session() as session:
            row = session.exec(select(HandoffRow).where(HandoffRow.key == update.key)).first()
            if row is None:
                row = HandoffRow(
                    account_id=update.account_id,
                    key=update.key,
                    updated_at=update.at,
                    **{f: getattr(update, f) for f in _ROW_FIELDS},
                )
            else:
                for name in _ROW_FIELDS:
                    setattr(row, name, getattr(update, name))
                row.updated_at = update.at
            session.add(row)
            record_touchpoint(
                session,
                account_id=update.account_id,
                kind=TouchpointKind.HANDOFF,
                summary=update.summary,
                idempotency_key=update.idempotency_key,
                occurred_at=update.at,
                workflow_id=update.workflow_id,
                step=f"handoff:{update.milestone_id}:{update.cycle}",
                details={
                    "milestone": update.milestone_id,
                    "cycle": update.cycle,
                    "function": update.function,
                    "state": update.state.value,
                    "actor": update.actor,
                    "source": update.source,
                },
            )
