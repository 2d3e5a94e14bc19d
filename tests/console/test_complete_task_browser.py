"""End to end: an escalation's real activities open its acknowledgement task in the CRM, the CSM
completes it in the console in headless Chromium, and the escalation, waiting on that task,
counts it as acknowledged (asserted on the workflow's own state)."""

from __future__ import annotations

import asyncio

from sqlmodel import col, select
from temporalio.client import Client

from crm.database import Store
from crm.tables import CsmTaskRow, TouchpointRow
from domain.models import Segment
from domain.settings import Settings
from starter.api import escalation_action
from tests.console.conftest import Console
from tests.support.browser import needs_chromium
from tests.support.console_seed import MORGAN, ROBIN, ConsoleData
from tests.support.escalations import start_ticket_escalation
from tests.support.polling import eventually
from workflows.escalation import (
    EscalationAction,
    EscalationActionKind,
    EscalationWorkflow,
)

pytestmark = needs_chromium


async def test_a_csm_completes_a_task_and_the_escalation_waiting_on_it_proceeds(
    console: Console,
    console_worker: Client,
    console_settings: Settings,
    console_data: ConsoleData,
    console_crm: Store,
) -> None:
    account_id = console_data.accounts["Hooli"]
    handle = await start_ticket_escalation(
        console_worker,
        account_id,
        summary="Exports time out",
        chain=[ROBIN, MORGAN],
        task_queue=console_settings.task_queue,
        segment=Segment.MID_MARKET,
        ticket_id="SUP-7",
    )
    escalation_id = handle.id

    def opening_task() -> CsmTaskRow | None:
        with console_crm.session() as session:
            return session.exec(
                select(CsmTaskRow).where(CsmTaskRow.workflow_id == escalation_id)
            ).first()

    task = await eventually(lambda: asyncio.to_thread(opening_task), lambda t: t is not None)
    assert task is not None and task.id is not None and task.owner == ROBIN
    assert not (await handle.query(EscalationWorkflow.status)).acknowledged

    page = console.page
    await console.sign_in(ROBIN)
    card = page.locator(f"#task-{task.id}")
    assert (
        await card.get_by_role("heading").inner_text()
        == "Escalation opened (high): Exports time out"
    )
    assert "Hooli" in await card.inner_text()
    await card.get_by_label("Outcome").fill("Called Sam, a fix ships tonight")
    await card.get_by_role("button", name=f"Complete “{task.title}”").click()
    assert await page.get_by_role("status").inner_text() == (
        f"Completed “{task.title}”. The workflow waiting on it has been told."
    )
    assert await page.locator(f"#task-{task.id}").count() == 0

    # The escalation heard it: acknowledged in time, nothing escalated.
    status = await eventually(
        lambda: handle.query(EscalationWorkflow.status), lambda s: s.acknowledged
    )
    assert status.missed_slas == [] and status.level == 0 and not status.resolved
    done = opening_task()
    assert done is not None
    assert (done.status, done.outcome) == ("done", "Called Sam, a fix ships tonight")
    with console_crm.session() as session:
        entries = session.exec(
            select(TouchpointRow.summary)
            .where(TouchpointRow.account_id == account_id, TouchpointRow.kind == "task")
            .order_by(col(TouchpointRow.id))
        ).all()
    assert f"Task completed by {ROBIN}: {task.title} (Called Sam, a fix ships tonight)" in entries

    await escalation_action(
        console_worker, escalation_id, EscalationAction(kind=EscalationActionKind.RESOLVED)
    )
    result = await asyncio.wait_for(handle.result(), timeout=30)
    assert result.acknowledged_at is not None
