from __future__ import annotations

import uuid
from datetime import timedelta

from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from tests.support.cs_doubles import FakeCrm
from tests.support.cs_fixtures import config
from workflows.customer_event import CustomerEvent
from workflows.requirements import RequirementsGatheringWorkflow, RequirementsInput


def _input(account_id: str) -> RequirementsInput:
    return RequirementsInput(
        account_id=account_id,
        csm_owner="csm@csflow.example",
        contact_id=f"{account_id}-champion",
        config=config(),
    )


async def test_silent_customer_gets_two_reminders_then_a_csm_task(ts_env: WorkflowEnvironment):
    crm = FakeCrm()
    queue = f"tq-{uuid.uuid4()}"
    async with Worker(
        ts_env.client,
        task_queue=queue,
        workflows=[RequirementsGatheringWorkflow],
        activities=crm.activities,
    ):
        started = await ts_env.get_current_time()
        wf_id = f"requirements-silent-{uuid.uuid4()}"
        result = await ts_env.client.execute_workflow(
            RequirementsGatheringWorkflow.run, _input("silent"), id=wf_id, task_queue=queue
        )
    assert not result.answered
    assert result.reminders_sent == 2
    assert result.escalated
    assert crm.email_steps() == [
        f"{wf_id}:introduction",
        f"{wf_id}:questionnaire",
        f"{wf_id}:questionnaire_reminder:1",
        f"{wf_id}:questionnaire_reminder:2",
    ]
    assert [t.title for t in crm.tasks.values()] == [
        "Requirements questionnaire unanswered: call the champion"
    ]
    # Reminders on day 3 and 7 of virtual time, the task on day 10.
    sent = [e for e in result.log.emails if "reminder" in e.key]
    assert [round((e.at - started) / timedelta(days=1)) for e in sent] == [3, 7]
    assert round((await ts_env.get_current_time() - started) / timedelta(days=1)) >= 40
    assert crm.requirements == []


async def test_answers_stop_the_reminders_and_are_recorded(ts_env: WorkflowEnvironment):
    crm = FakeCrm()
    queue = f"tq-{uuid.uuid4()}"
    async with Worker(
        ts_env.client,
        task_queue=queue,
        workflows=[RequirementsGatheringWorkflow],
        activities=crm.activities,
    ):
        wf_id = f"requirements-happy-{uuid.uuid4()}"
        handle = await ts_env.client.start_workflow(
            RequirementsGatheringWorkflow.run, _input("happy"), id=wf_id, task_queue=queue
        )
        await ts_env.sleep(timedelta(days=4))  # past the first reminder
        await handle.signal(
            RequirementsGatheringWorkflow.customer_event,
            CustomerEvent(
                account_id="happy",
                type="questionnaire_answered",
                payload={"reasons_for_purchase": "scale CS", "intended_use": "renewals"},
            ),
        )
        result = await handle.result()
    assert result.answered and result.reminders_sent == 1 and not result.escalated
    assert crm.tasks == {}
    assert [a.reasons_for_purchase for a in crm.requirements] == ["scale CS"]
    assert all(count == 1 for count in crm.email_sends.values())
