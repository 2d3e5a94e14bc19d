"""`record_handoff`: the CRM's row of a process-map milestone follows its changes, and each change
is one timeline entry naming who did it, when and through what (a retry adds nothing)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import select

from activities import Activities
from crm.database import Store
from crm.tables import HandoffRow, TouchpointRow
from domain.handoffs import HandoffProgress, HandoffState, HandoffUpdate
from tests.support.cs_support import run, seed_account

OPENED = datetime(2026, 11, 18, 9, 0, tzinfo=UTC)


def _update(progress: HandoffProgress, summary: str, at: datetime, **audit: str) -> HandoffUpdate:
    return HandoffUpdate(
        account_id="acme",
        progress=progress,
        function="Sales",
        title="Sales handover notes",
        owner="sales-team@example.com",
        map_version="2026.12.1+abcd1234",
        workflow_id="process-map-acme",
        summary=summary,
        actor=audit.get("actor", "csflow"),
        source=audit.get("source", "process map"),
        at=at,
        idempotency_key=f"process-map-acme:handoff:{progress.key}:{progress.state.value}",
    )


async def test_each_change_updates_the_row_and_adds_one_timeline_entry(
    store: Store, acts: Activities
) -> None:
    await seed_account(acts)
    progress = HandoffProgress(
        milestone_id="sales_handover",
        state=HandoffState.OPEN,
        starts_at=OPENED,
        due_at=OPENED + timedelta(days=3),
        opened_at=OPENED,
        task_id=7,
    )
    await run(acts.handoffs.record_handoff, _update(progress, "handed to Sales", OPENED))
    done_at = OPENED + timedelta(days=1)
    done = progress.model_copy(
        update={
            "state": HandoffState.DONE,
            "done_at": done_at,
            "done_by": "sam@example.com",
            "evidence": "notes in the CRM",
        }
    )
    finished = _update(
        done, "done by sam@example.com", done_at, actor="sam@example.com", source="cli"
    )
    await run(acts.handoffs.record_handoff, finished)
    await run(acts.handoffs.record_handoff, finished)  # a retry

    with store.session() as session:
        rows = session.exec(select(HandoffRow)).all()
        entries = session.exec(
            select(TouchpointRow).where(TouchpointRow.kind == "handoff").order_by(TouchpointRow.id)
        ).all()
    assert [(r.key, r.state, r.done_by, r.evidence, r.task_id) for r in rows] == [
        ("acme:sales_handover:0", "done", "sam@example.com", "notes in the CRM", 7)
    ]
    assert rows[0].updated_at == done_at
    assert [
        (e.summary, e.occurred_at, e.details["actor"], e.details["source"]) for e in entries
    ] == [
        ("handed to Sales", OPENED, "csflow", "process map"),
        ("done by sam@example.com", done_at, "sam@example.com", "cli"),
    ]
