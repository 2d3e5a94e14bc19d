"""Unresponsive-customer playbook: re-engagement sequence, executive-sponsor task."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest_asyncio
from temporalio.testing import WorkflowEnvironment

from tests.support.cs_doubles import Playground, playground, save_history, start_account
from tests.support.cs_driver import advance_until, event
from workflows.catalog import WORKFLOWS


@pytest_asyncio.fixture
async def pg(ts_env: WorkflowEnvironment) -> AsyncIterator[Playground]:
    async for ground in playground(ts_env, WORKFLOWS):
        yield ground


async def test_silence_opens_re_engagement_then_executive_task(pg: Playground) -> None:
    # Never answers: questionnaire + 2 reminders are 3 unanswered touches.
    acct = await start_account(pg, answer=False)
    status = await advance_until(pg.env, acct, lambda s: bool(s.playbooks))
    [playbook] = status.playbooks
    assert playbook.playbook_id == f"playbook-unresponsive-{acct}-silence-1"
    assert [e.template for e in pg.crm.emails if e.workflow_id == playbook.playbook_id] == [
        "re_engagement_product_updates"
    ]
    status = await advance_until(pg.env, acct, lambda s: not s.playbooks[0].open)
    templates = [e.template for e in pg.crm.emails if e.workflow_id == playbook.playbook_id]
    # No milestones reached: no congratulations step.
    assert templates == ["re_engagement_product_updates", "re_engagement_help"]
    [task] = pg.crm.named_tasks("executive sponsor")
    assert task.priority == "high"
    assert "executive-sponsor task" in status.playbooks[0].outcome
    await save_history(pg.client, playbook.playbook_id, "UnresponsiveCustomerWorkflow-1")


async def test_any_response_ends_the_sequence(pg: Playground) -> None:
    acct = await start_account(pg, answer=False)
    status = await advance_until(pg.env, acct, lambda s: bool(s.playbooks))
    pid = status.playbooks[0].playbook_id
    await event(pg.client, acct, "email_replied", subject="Re: what's new")
    status = await advance_until(
        pg.env, acct, lambda s: not s.playbooks[0].open, step=timedelta(minutes=1)
    )
    assert status.playbooks[0].outcome == "customer responded after 1 re-engagement emails"
    assert len([e for e in pg.crm.emails if e.workflow_id == pid]) == 1
    assert pg.crm.named_tasks("executive sponsor") == []
