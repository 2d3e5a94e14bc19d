"""The cross-functional process map run for an account (time-skipping, CRM doubles): handoff
tasks per function, the requirements stage gated on the Sales handover, overdue escalation to a
function's lead, completion emails to dependent functions, and the map pinned per journey."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from domain.handoffs import HandoffState
from domain.models import CsmTask, LifecycleStage, TaskStatus
from domain.process_map import ProcessMap, load_map
from starter.api import journey_status
from tests.support.cs_doubles import Playground, start_account
from tests.support.cs_driver import event
from workflows.journey_process_map import process_map_id

SALES_TEAM = "sales-team@csflow.example"
SALES_LEAD = "sales-lead@csflow.example"
CS_TEAM = "cs-team@csflow.example"


async def _until(pg: Playground, check: Callable[[], bool], days: int = 30) -> None:
    """Skip virtual time an hour at a time until `check()` holds."""
    for _ in range(days * 24):
        if check():
            return
        await pg.env.sleep(timedelta(hours=1))
    raise AssertionError("not reached")


def _task(pg: Playground, account_id: str, title: str) -> CsmTask:
    return next(
        t for t in pg.crm.tasks.values() if t.account_id == account_id and t.title.startswith(title)
    )


def _questionnaires(pg: Playground, account_id: str) -> list[object]:
    return [
        e for e in pg.crm.emails_with("requirements_questionnaire") if e.account_id == account_id
    ]


async def _complete(pg: Playground, task: CsmTask, by: str, evidence: str) -> None:
    done = task.model_copy(
        update={
            "status": TaskStatus.DONE,
            "outcome": evidence,
            "completed_by": by,
            "completed_via": "cli",
        }
    )
    handle = pg.client.get_workflow_handle(process_map_id(task.account_id))
    await handle.signal("task_completed", done)


async def test_requirements_gathering_waits_for_the_sales_handover(pg: Playground) -> None:
    account_id = await start_account(pg, answer=False, process_map=load_map())
    await _until(
        pg, lambda: any(t.title.startswith("Sales handover") for t in pg.crm.tasks.values())
    )
    sales = _task(pg, account_id, "Sales handover notes")
    assert sales.owner == SALES_TEAM
    billing = _task(pg, account_id, "Billing set up")
    assert billing.owner == "finance-team@csflow.example"

    await pg.env.sleep(timedelta(days=2))  # not yet due (3 days)
    status = await journey_status(pg.client, account_id)
    assert status.stage == LifecycleStage.REQUIREMENTS
    assert _questionnaires(pg, account_id) == [], "requirements gathering started early"
    # Whoever asks why nothing happens is told what the stage waits for.
    assert status.waiting_for is not None
    assert status.waiting_for.startswith(
        "Sales handover notes from Sales before requirements gathering starts (goes ahead"
    )
    assert status.stage_workflow_id is None

    await _complete(pg, sales, "sam.sales@csflow.example", "deal notes in the CRM")
    await _until(pg, lambda: bool(_questionnaires(pg, account_id)), days=1)
    status = await journey_status(pg.client, account_id)
    assert status.waiting_for is None
    assert status.stage_workflow_id == f"requirements-{account_id}"

    handoff = pg.crm.handoffs[f"{account_id}:sales_handover:0"]
    assert handoff.progress.state == HandoffState.DONE
    assert handoff.progress.done_by == "sam.sales@csflow.example"
    assert handoff.progress.evidence == "deal notes in the CRM"
    assert handoff.source == "cli"
    # On time: nobody was escalated to.
    assert not [a for a in pg.crm.alerts if a.owner == SALES_LEAD]


async def test_an_overdue_handoff_escalates_once_and_the_gate_gives_way(pg: Playground) -> None:
    account_id = await start_account(pg, answer=False, process_map=load_map())

    def overdue_alerts() -> list[object]:
        return [
            a
            for a in pg.crm.alerts
            if a.owner == SALES_LEAD and a.subject.startswith("Overdue: Sales handover notes")
        ]

    def overdue() -> bool:
        handoff = pg.crm.handoffs.get(f"{account_id}:sales_handover:0")
        return handoff is not None and handoff.progress.state == HandoffState.OVERDUE

    # The alert goes out, then the handoff is recorded overdue: wait for both.
    await _until(pg, lambda: overdue() and bool(overdue_alerts()), days=5)
    assert _questionnaires(pg, account_id) == [], "the stage still waits within the grace time"

    # Due after 3 days, 3 days' grace: then requirements gathering goes ahead, escalated.
    await _until(pg, lambda: bool(_questionnaires(pg, account_id)), days=5)
    gate = [a for a in pg.crm.alerts if "started without Sales handover notes" in a.subject]
    assert [a.owner for a in gate] == [SALES_LEAD]
    await pg.env.sleep(timedelta(days=10))
    assert len(overdue_alerts()) == 1, "an overdue handoff escalates once"
    finance = [a for a in pg.crm.alerts if a.subject.startswith("Overdue: Billing set up")]
    assert [a.owner for a in finance] == ["finance-lead@csflow.example"]


async def test_a_completed_milestone_emails_its_dependents_once(pg: Playground) -> None:
    account_id = await start_account(pg, answer=False, process_map=load_map())
    await _until(
        pg, lambda: any(t.title.startswith("Billing set up") for t in pg.crm.tasks.values())
    )
    billing = _task(pg, account_id, "Billing set up")

    def notices() -> list[object]:
        return [
            e
            for e in pg.crm.emails_with("handoff_done")
            if e.account_id == account_id and e.context["milestone_title"] == "Billing set up"
        ]

    await _complete(pg, billing, "fin@csflow.example", "invoice schedule INV-7")
    await _complete(pg, billing, "fin@csflow.example", "invoice schedule INV-7")  # sent twice
    await _until(pg, lambda: bool(notices()), days=1)
    await pg.env.sleep(timedelta(hours=2))
    # Kickoff (Customer Success) depends on it, and the map notifies Customer Success: one email.
    assert [(e.to_email, e.context["unblocked"]) for e in notices()] == [
        (CS_TEAM, ["Kickoff scheduled"])
    ]


def _without_gates(process_map: ProcessMap, version: str) -> ProcessMap:
    milestones = [m.model_copy(update={"gates": None}) for m in process_map.milestones]
    return process_map.model_copy(update={"version": version, "milestones": milestones})


async def test_a_journey_keeps_the_map_it_started_with(pg: Playground) -> None:
    first = load_map()
    pinned = await start_account(
        pg, answer=False, process_map=first, continue_as_new_after_events=1
    )
    # The map changes (the gate goes): journeys started from now on run by the new one.
    second = _without_gates(first, "2027.1.0")
    fresh = await start_account(pg, answer=False, process_map=second)
    await _until(pg, lambda: bool(_questionnaires(pg, fresh)), days=1)

    for users in (3, 4):  # each event ends a run of the pinned journey: continue-as-new
        await event(pg.client, pinned, "usage_reported", active_users=users, licensed_seats=10)
    await pg.env.sleep(timedelta(days=1))
    status = await journey_status(pg.client, pinned)
    assert status.runs > 1
    assert _questionnaires(pg, pinned) == [], "the pinned journey still waits for Sales"
    handle = pg.client.get_workflow_handle(process_map_id(pinned))
    assert await handle.query("map_version") == first.label
    assert first.label != second.label
