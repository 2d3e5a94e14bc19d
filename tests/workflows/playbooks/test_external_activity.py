"""Public-mention playbook: negative → alert and a response task within the segment's SLA;
positive → thank-you and an advocacy ask; one playbook per thread; switchable per segment."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from temporalio.client import WorkflowFailureError

from domain.models import Segment, TaskPriority
from starter.api import journey_status, start_journey
from tests.support.cs_doubles import Playground, save_history, start_account
from tests.support.cs_driver import advance_until, event
from tests.support.cs_fixtures import journey_input
from workflows.customer_event import CustomerEvent
from workflows.journey_state import JourneyStatus, TimelineEntry
from workflows.playbooks.base import PlaybookSummary
from workflows.workflow_ids import journey_id

REVIEW = "https://www.g2.example/products/csflow/reviews/csflow-review-123"


async def test_negative_review_alerts_the_csm_and_asks_for_a_response_within_the_sla(
    pg: Playground,
) -> None:
    acct = await start_account(pg, Segment.SMB)
    posted = await pg.env.get_current_time()
    await event(
        pg.client,
        acct,
        "external_activity",
        channel="review_site",
        url=REVIEW,
        sentiment="negative",
        author="Chris C.",
        text="Renewal emails went to the wrong person.",
    )
    status = await advance_until(
        pg.env, acct, lambda s: not any(p.open for p in _mentions(s)), step=timedelta(minutes=5)
    )
    [playbook] = _mentions(status)
    assert playbook.playbook_id.startswith(f"playbook-external-{acct}-www.g2.example_products")
    [alert] = [a for a in pg.crm.alerts if a.subject == "Negative review by Chris C."]
    assert REVIEW in alert.message and alert.owner == "csm@csflow.example"
    [task] = pg.crm.named_tasks("Respond to a negative review")
    assert REVIEW in (task.description or "") and task.priority == TaskPriority.URGENT
    # SMB's response SLA is its escalation's first-response time: 8 hours.
    assert task.due_at is not None and task.due_at - posted <= timedelta(hours=8, minutes=5)
    assert task.due_at - posted >= timedelta(hours=7, minutes=55)
    assert not [e for e in pg.crm.emails if e.workflow_id == playbook.playbook_id]
    await save_history(pg.client, playbook.playbook_id, "ExternalActivityWorkflow-1")


async def test_positive_post_thanks_its_author_and_opens_an_advocacy_ask_once_per_thread(
    pg: Playground,
) -> None:
    acct = await start_account(pg, Segment.ENTERPRISE)
    post = "https://community.example/t/how-we-run-renewals/42"
    for url in (post, post + "?page=2#reply-7"):  # a second mention of the same thread
        await event(
            pg.client,
            acct,
            "external_activity",
            channel="community",
            url=url,
            sentiment="positive",
            author="Dana",
            contact_id=f"{acct}-dm",
        )
    await event(
        pg.client, acct, "external_activity", channel="social", url=post, sentiment="neutral"
    )
    status = await advance_until(
        pg.env, acct, lambda s: not any(p.open for p in _mentions(s)), step=timedelta(minutes=5)
    )
    # Neither the repeat nor the neutral mention opened another.
    [playbook] = _mentions(status)
    [thanks] = [e for e in pg.crm.emails if e.workflow_id == playbook.playbook_id]
    assert thanks.template == "public_mention_thanks" and thanks.to_contact_id == f"{acct}-dm"
    assert thanks.context["url"] == post and thanks.context["channel"] == "community post"
    [ask] = pg.crm.named_tasks("Ask for a reference or case study")
    assert ask.title == "Ask for a reference or case study: positive community post by Dana"
    notes = await pg.client.get_workflow_handle(journey_id(acct)).query(
        "timeline", result_type=list[TimelineEntry]
    )
    assert any(n.summary.endswith("already opened; not again") for n in notes)


async def test_a_segment_can_switch_the_playbook_off_and_a_misspelt_setting_is_refused(
    pg: Playground,
) -> None:
    acct = f"acct-{uuid.uuid4().hex[:8]}"
    quiet = journey_input(acct, Segment.SMB, contract_start=await pg.today())
    quiet.config = quiet.config.model_copy(update={"playbooks": {"external": {"enabled": False}}})
    await start_journey(
        pg.client,
        quiet,
        CustomerEvent(account_id=acct, type="payment_received"),
        task_queue=pg.queue,
    )
    await event(
        pg.client, acct, "external_activity", channel="news", url=REVIEW, sentiment="negative"
    )
    assert _mentions(await journey_status(pg.client, acct)) == []

    wrong = f"acct-{uuid.uuid4().hex[:8]}"
    bad = journey_input(wrong, Segment.SMB, contract_start=await pg.today())
    bad.config = bad.config.model_copy(
        update={
            "playbooks": {"external": {"respond_within_hours": 4}, "usage": {"drop_threshold": 2}}
        }
    )
    await start_journey(
        pg.client,
        bad,
        CustomerEvent(account_id=wrong, type="payment_received"),
        task_queue=pg.queue,
    )
    with pytest.raises(WorkflowFailureError) as failed:
        await pg.client.get_workflow_handle(journey_id(wrong)).result()
    message = str(failed.value.cause)
    assert "playbooks.external: respond_within_hours: Extra inputs are not permitted" in message
    assert "playbooks.usage: drop_threshold: Input should be less than 1" in message


def _mentions(status: JourneyStatus) -> list[PlaybookSummary]:
    return [p for p in status.playbooks if p.kind == "external"]
