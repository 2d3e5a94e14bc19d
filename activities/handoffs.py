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

_LABELS = ("function", "title", "owner", "map_version", "workflow_id")


class HandoffActivities:
    def __init__(self, store: Store) -> None:
        self.store = store

    @activity.defn(name="record_handoff")
    async def record_handoff(self, update: HandoffUpdate) -> None:
        """Upsert the milestone's row and put the change on the account's timeline, in one
        transaction; a retry finds the timeline entry by its key and changes nothing more."""
        await in_thread(self.record, update)
        activity_logger(account_id=update.account_id, step=update.progress.key).info(
            "handoff recorded", state=update.progress.state.value, actor=update.actor
        )

    def record(self, update: HandoffUpdate) -> None:
        """Blocking core of `record_handoff` (also what seeds a CRM for the console tests)."""
        with self.store.session() as session:
            row = session.exec(select(HandoffRow).where(HandoffRow.key == update.key)).first()
            fields = {
                **update.progress.model_dump(),
                **{name: getattr(update, name) for name in _LABELS},
                "updated_at": update.at,
            }
            if row is None:
                row = HandoffRow(account_id=update.account_id, key=update.key, **fields)
            else:
                for name, value in fields.items():
                    setattr(row, name, value)
            session.add(row)
            record_touchpoint(
                session,
                account_id=update.account_id,
                kind=TouchpointKind.HANDOFF,
                summary=update.summary,
                idempotency_key=update.idempotency_key,
                occurred_at=update.at,
                workflow_id=update.workflow_id,
                step=f"handoff:{update.progress.key}",
                details={
                    "milestone": update.progress.milestone_id,
                    "cycle": update.progress.cycle,
                    "function": update.function,
                    "state": update.progress.state.value,
                    "actor": update.actor,
                    "source": update.source,
                },
            )
