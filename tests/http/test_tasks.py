"""/v1/tasks: list, complete, snooze and reassign CSM tasks (bearer token), each on the timeline;
a completion tells the task's workflow, and an escalation waiting on its opening task proceeds."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import httpx
from sqlmodel import col, select
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from activities import Activities
from crm.database import get_store
from crm.tables import CsmTaskRow, EmailSendRow, TouchpointRow
from domain.models import AccountUpsert, CsmTask, TaskInput
from domain.settings import Settings
from starter.api import escalation_action
from starter.http.app import create_app
from tests.support.escalations import start_ticket_escalation
from tests.support.http_support import account_body, bearer, free_port, new_account_id
from workflows.escalation import (
    EscalationAction,
    EscalationActionKind,
    EscalationWorkflow,
)

CSM = "casey@csflow.example"
T = TypeVar("T")


async def _account(acts: Activities) -> str:
    account_id = new_account_id()
    await acts.crm.upsert_account(AccountUpsert.model_validate(account_body(account_id)))
    return account_id


def _task(account_id: str, title: str = "Prepare renewal", **extra: Any) -> CsmTask:
    from activities.crm import CrmActivities

    crm = CrmActivities(get_store())
    return crm.create_task_once(TaskInput(account_id=account_id, owner=CSM, title=title, **extra))


def _timeline(account_id: str, task_id: int) -> list[str]:
    with get_store().session() as session:
        rows = session.exec(
            select(TouchpointRow)
            .where(TouchpointRow.account_id == account_id, TouchpointRow.kind == "task")
            .order_by(col(TouchpointRow.id))
        ).all()
        return [r.summary for r in rows if (r.details or {}).get("task_id") == task_id]


async def _eventually(probe: Callable[[], Awaitable[T]], check: Callable[[T], bool]) -> T:
    for _ in range(150):
        value = await probe()
        if check(value):
            return value
        await asyncio.sleep(0.1)
    raise AssertionError(f"never satisfied: last value {value!r}")


async def test_complete_snooze_and_reassign_each_leave_a_timeline_entry(
    http: httpx.AsyncClient, acts: Activities
) -> None:
    account_id = await _account(acts)
    task = _task(account_id, due_at=datetime.now(UTC) + timedelta(hours=1))

    listed = await http.get("/v1/tasks", params={"account_id": account_id}, headers=bearer())
    assert listed.status_code == 200, listed.text
    assert [(t["id"], t["status"], t["owner"]) for t in listed.json()] == [(task.id, "open", CSM)]
    assert listed.json()[0]["account_name"] == f"Account {account_id}"

    until = (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=0)
    snoozed = await http.post(
        f"/v1/tasks/{task.id}/snooze", json={"until": until.isoformat()}, headers=bearer()
    )
    assert snoozed.status_code == 200, snoozed.text
    body = snoozed.json()
    assert body["changed"] is True and body["task"]["status"] == "open"
    assert datetime.fromisoformat(body["task"]["due_at"]) == until
    assert body["by"] == CSM  # by default, the owner did it

    reassigned = await http.post(
        f"/v1/tasks/{task.id}/reassign",
        json={"owner": "Robin@CSflow.example", "by": "manager@csflow.example"},
        headers=bearer(),
    )
    assert reassigned.status_code == 200, reassigned.text
    assert reassigned.json()["task"]["owner"] == "robin@csflow.example"
    robin = await http.get(
        "/v1/tasks", params={"owner": "robin@csflow.example", "status": "open"}, headers=bearer()
    )
    assert [t["id"] for t in robin.json()] == [task.id]

    done = await http.post(
        f"/v1/tasks/{task.id}/complete",
        json={"outcome": "renewed on the call", "by": "robin@csflow.example"},
        headers=bearer(),
    )
    assert done.status_code == 200, done.text
    result = done.json()
    assert result["changed"] is True
    assert (result["task"]["status"], result["task"]["outcome"]) == ("done", "renewed on the call")
    assert result["workflow_signal"] == {
        "workflow_id": None,
        "status": "no_workflow",
        "detail": None,
    }
    title = "Prepare renewal"
    assert _timeline(account_id, task.id) == [
        f"Task for {CSM}: {title}",
        f"Task snoozed by {CSM} until {until:%Y-%m-%d %H:%M} UTC, was "
        f"{task.due_at:%Y-%m-%d %H:%M} UTC: {title}",
        f"Task reassigned by manager@csflow.example from {CSM} to robin@csflow.example: {title}",
        f"Task completed by robin@csflow.example: {title} (renewed on the call)",
    ]

    # Completing again changes nothing; a closed task is not snoozed or reassigned.
    again = await http.post(
        f"/v1/tasks/{task.id}/complete", json={"outcome": "twice"}, headers=bearer()
    )
    assert again.status_code == 200
    assert again.json()["changed"] is False and again.json()["touchpoint"] is None
    assert again.json()["task"]["outcome"] == "renewed on the call"
    later = (datetime.now(UTC) + timedelta(days=9)).isoformat()
    closed = await http.post(f"/v1/tasks/{task.id}/snooze", json={"until": later}, headers=bearer())
    assert closed.status_code == 409
    assert closed.json() == {"detail": f"task {task.id} is done: only open tasks can be snoozed"}
    closed = await http.post(f"/v1/tasks/{task.id}/reassign", json={"owner": CSM}, headers=bearer())
    assert closed.status_code == 409
    assert len(_timeline(account_id, task.id)) == 4
    done_list = await http.get(
        "/v1/tasks", params={"account_id": account_id, "status": "done"}, headers=bearer()
    )
    assert [t["id"] for t in done_list.json()] == [task.id]


async def test_refusals_name_the_field_and_unknown_tasks_are_404(
    http: httpx.AsyncClient, acts: Activities
) -> None:
    account_id = await _account(acts)
    task = _task(account_id)

    def loc(response: httpx.Response) -> list[Any]:
        assert response.status_code == 422, response.text
        return [problem["loc"] for problem in response.json()["detail"]]

    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    assert loc(
        await http.post(f"/v1/tasks/{task.id}/snooze", json={"until": past}, headers=bearer())
    ) == [["body", "until"]]
    naive = await http.post(
        f"/v1/tasks/{task.id}/snooze", json={"until": "2030-01-01T09:00:00"}, headers=bearer()
    )
    assert loc(naive) == [["body", "until"]]
    assert loc(
        await http.post(f"/v1/tasks/{task.id}/reassign", json={"owner": "x"}, headers=bearer())
    ) == [["body", "owner"]]
    assert loc(
        await http.post(f"/v1/tasks/{task.id}/complete", json={"outcome": ""}, headers=bearer())
    ) == [["body", "outcome"]]
    assert loc(
        await http.post(
            f"/v1/tasks/{task.id}/complete",
            json={"outcome": "ok", "by": "nobody"},
            headers=bearer(),
        )
    ) == [["body", "by"]]
    assert loc(await http.get("/v1/tasks", params={"status": "closed"}, headers=bearer())) == [
        ["query", "status"]
    ]
    surrogate = b'{"outcome": "\\ud800"}'
    lone = await http.post(
        f"/v1/tasks/{task.id}/complete",
        content=surrogate,
        headers={**bearer(), "Content-Type": "application/json"},
    )
    assert loc(lone) == [["body", "outcome"]]

    for action, body in (
        ("complete", {"outcome": "done"}),
        ("snooze", {"until": (datetime.now(UTC) + timedelta(days=1)).isoformat()}),
        ("reassign", {"owner": CSM}),
    ):
        missing = await http.post(f"/v1/tasks/2000000000/{action}", json=body, headers=bearer())
        assert missing.status_code == 404
        assert missing.json() == {"detail": "no task 2000000000"}
        anonymous = await http.post(f"/v1/tasks/{task.id}/{action}", json=body)
        assert anonymous.status_code == 401
    assert (await http.get("/v1/tasks")).status_code == 401
    # Nothing above changed the task.
    with get_store().session() as session:
        row = session.get(CsmTaskRow, task.id)
        assert row is not None and (row.status, row.owner) == ("open", CSM)
    assert _timeline(account_id, task.id) == [f"Task for {CSM}: Prepare renewal"]


async def test_a_completion_is_kept_when_temporal_cannot_be_told(
    settings: Settings, acts: Activities
) -> None:
    client = await Client.connect(
        f"127.0.0.1:{free_port()}", data_converter=pydantic_data_converter, lazy=True
    )
    app = create_app(settings, client=client)
    account_id = await _account(acts)
    task = _task(account_id, title="Escalation opened", workflow_id=f"escalation-{account_id}")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://csflow.test") as http:
        done = await http.post(
            f"/v1/tasks/{task.id}/complete", json={"outcome": "called them"}, headers=bearer()
        )
    assert done.status_code == 200, done.text
    signal = done.json()["workflow_signal"]
    assert (signal["workflow_id"], signal["status"]) == (f"escalation-{account_id}", "unreachable")
    assert done.json()["task"]["status"] == "done"
    with get_store().session() as session:
        row = session.get(CsmTaskRow, task.id)
        assert row is not None and (row.status, row.outcome) == ("done", "called them")


async def test_an_escalation_proceeds_when_its_opening_task_is_completed(
    http: httpx.AsyncClient, running_worker: Client, acts: Activities, task_queue: str
) -> None:
    """End to end: the real activities open the escalation's task in the CRM, the CSM completes
    it through the API, and the escalation counts it as its acknowledgement."""
    account_id = await _account(acts)
    handle = await start_ticket_escalation(
        running_worker,
        account_id,
        summary="Sync broken",
        chain=[CSM, "manager@csflow.example"],
        task_queue=task_queue,
    )
    escalation_id = handle.id

    async def opening_tasks() -> list[dict[str, Any]]:
        response = await http.get("/v1/tasks", params={"account_id": account_id}, headers=bearer())
        return [t for t in response.json() if t["workflow_id"] == escalation_id]

    [opened] = await _eventually(opening_tasks, lambda tasks: len(tasks) == 1)
    assert opened["title"] == "Escalation opened (high): Sync broken"
    assert opened["owner"] == CSM and opened["status"] == "open"

    def notice_scheduled() -> bool:
        # The workflow asks for the customer's notice right after it learns its task's id.
        with get_store().session() as session:
            rows = session.exec(
                select(EmailSendRow).where(EmailSendRow.workflow_id == escalation_id)
            ).all()
        return any(r.template != "csm_alert" for r in rows)

    async def probe_notice() -> bool:
        return await asyncio.to_thread(notice_scheduled)

    await _eventually(probe_notice, bool)
    status = await handle.query(EscalationWorkflow.status)
    assert not status.acknowledged

    done = await http.post(
        f"/v1/tasks/{opened['id']}/complete",
        json={"outcome": "called the customer", "by": CSM},
        headers=bearer(),
    )
    assert done.status_code == 200, done.text
    assert done.json()["workflow_signal"]["status"] == "delivered"

    status = await _eventually(
        lambda: handle.query(EscalationWorkflow.status), lambda s: s.acknowledged
    )
    assert status.missed_slas == [] and status.level == 0 and not status.resolved

    await escalation_action(
        running_worker, escalation_id, EscalationAction(kind=EscalationActionKind.RESOLVED)
    )
    result = await asyncio.wait_for(handle.result(), timeout=30)
    assert result.acknowledged_at is not None and result.missed_slas == []
    # The CSM's outcome stays: the workflow's own closing found the task done already.
    with get_store().session() as session:
        row = session.get(CsmTaskRow, opened["id"])
        assert row is not None and (row.status, row.outcome) == ("done", "called the customer")

    # Completing again changes nothing, and Temporal knows the signal by its request id.
    again = await http.post(
        f"/v1/tasks/{opened['id']}/complete", json={"outcome": "again"}, headers=bearer()
    )
    assert again.json()["changed"] is False
    assert again.json()["workflow_signal"]["status"] == "delivered"
