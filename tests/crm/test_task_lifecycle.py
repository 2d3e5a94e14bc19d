"""crm.task_lifecycle: a person's completion and a workflow's closing of one task meet once on the
timeline; listing filters and orders; snoozes and reassignments of open tasks only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from activities.crm import CrmActivities
from crm.database import Store
from crm.tables import TouchpointRow
from crm.task_lifecycle import (
    InputRefused,
    TaskClosed,
    TaskCompletionRequest,
    TaskReassignment,
    TaskSnoozeRequest,
    UnknownTask,
    complete_task,
    list_tasks,
    reassign_task,
    snooze_task,
)
from domain.models import (
    AccountUpsert,
    CsmTask,
    TaskCompletion,
    TaskInput,
    TaskPriority,
    TaskStatus,
)

CSM = "casey@csflow.example"
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


@pytest.fixture
def crm(store: Store) -> CrmActivities:
    crm = CrmActivities(store)
    crm._upsert(AccountUpsert(id="acme", name="Acme", arr=5_000, csm_owner=CSM, contacts=[]))
    return crm


def _task(crm: CrmActivities, title: str, **extra: object) -> CsmTask:
    return crm.create_task_once(TaskInput(account_id="acme", owner=CSM, title=title, **extra))


def _closings(store: Store) -> list[str]:
    with store.session() as session:
        rows = session.exec(select(TouchpointRow).where(TouchpointRow.kind == "task")).all()
        return [r.summary for r in rows if r.summary.startswith("Task ") and ":" in r.summary]


def test_a_person_and_a_workflow_close_a_task_once(store: Store, crm: CrmActivities) -> None:
    first = _task(crm, "Escalation opened")
    done = complete_task(store, first.id, TaskCompletionRequest(outcome="called"), now=NOW)
    assert done.changed and done.task.completed_at == NOW and done.by == CSM
    # The workflow resolves later and closes its task: it is closed already, nothing changes.
    closed = crm._complete_task(TaskCompletion(task_id=first.id, outcome="resolved"))
    assert (closed.status, closed.outcome) == (TaskStatus.DONE, "called")

    second = _task(crm, "Prepare renewal")
    crm._complete_task(TaskCompletion(task_id=second.id, outcome="the renewal was decided"))
    late = complete_task(store, second.id, TaskCompletionRequest(outcome="renewed"), now=NOW)
    assert not late.changed and late.touchpoint is None
    assert late.task.outcome == "the renewal was decided"

    assert [s for s in _closings(store) if "completed" in s or "done" in s] == [
        f"Task completed by {CSM}: Escalation opened (called)",
        "Task done: Prepare renewal (the renewal was decided)",
    ]


def test_snooze_and_reassign_only_open_tasks(store: Store, crm: CrmActivities) -> None:
    task = _task(crm, "Check in", due_at=NOW)
    with pytest.raises(InputRefused) as refused:
        snooze_task(store, task.id, TaskSnoozeRequest(until=NOW), now=NOW)
    assert refused.value.field == "until"
    same = reassign_task(store, task.id, TaskReassignment(owner=CSM.upper()), now=NOW)
    assert not same.changed and same.touchpoint is None

    complete_task(store, task.id, TaskCompletionRequest(outcome="done"), now=NOW)
    later = TaskSnoozeRequest(until=NOW + timedelta(days=1))
    with pytest.raises(TaskClosed):
        snooze_task(store, task.id, later, now=NOW)
    with pytest.raises(TaskClosed):
        reassign_task(store, task.id, TaskReassignment(owner="robin@csflow.example"), now=NOW)
    with pytest.raises(UnknownTask):
        complete_task(store, 9999, TaskCompletionRequest(outcome="x"), now=NOW)


def test_listing_filters_and_puts_open_urgent_work_first(store: Store, crm: CrmActivities) -> None:
    low = _task(crm, "Low", priority=TaskPriority.LOW, due_at=NOW)
    undated = _task(crm, "Undated", priority=TaskPriority.URGENT)
    urgent = _task(crm, "Urgent", priority=TaskPriority.URGENT, due_at=NOW + timedelta(days=2))
    finished = _task(crm, "Finished", priority=TaskPriority.URGENT, due_at=NOW)
    complete_task(store, finished.id, TaskCompletionRequest(outcome="ok"), now=NOW)
    theirs = _task(crm, "Theirs")
    reassign_task(store, theirs.id, TaskReassignment(owner="robin@csflow.example"), now=NOW)

    assert [t.id for t in list_tasks(store, account_id="acme")] == [
        urgent.id,
        undated.id,
        theirs.id,
        low.id,
        finished.id,
    ]
    assert [t.id for t in list_tasks(store, owner=CSM.upper(), status=TaskStatus.OPEN)] == [
        urgent.id,
        undated.id,
        low.id,
    ]
    assert [t.id for t in list_tasks(store, status=TaskStatus.DONE)] == [finished.id]
    assert [t.id for t in list_tasks(store, owner="robin@csflow.example")] == [theirs.id]
    assert list_tasks(store, account_id="nobody") == []
    assert len(list_tasks(store, limit=2)) == 2
    assert {t.account_name for t in list_tasks(store)} == {"Acme"}
