"""crm.account_360: the Gantt's lanes from what the workflows leave in the CRM, the paged
timeline, the health history with its explanation, contacts and contracts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session

from crm.account_360 import (
    TIMELINE_PER_PAGE,
    Account360,
    BarState,
    GanttBar,
    UnknownAccount,
    account_360,
)
from domain.models import ContractStatus, HealthBand
from tests.console_data.rows import NOW, Rows, days


def bars(view: Account360, lane: str) -> list[GanttBar]:
    return [b for b in view.gantt.bars if b.lane == lane]


def test_an_unknown_account_is_a_lookup_error(session: Session) -> None:
    with pytest.raises(UnknownAccount) as raised:
        account_360(session, "nobody", now=NOW)
    assert isinstance(raised.value, LookupError)
    assert "nobody" in str(raised.value)


def test_lifecycle_lane_follows_the_stage_changes(session: Session, rows: Rows) -> None:
    rows.account("acme", stage="adoption", created=days(-100))
    rows.stage("acme", "trial", "requirements", days(-90))
    rows.stage("acme", "requirements", "onboarding", days(-80))
    rows.stage("acme", "onboarding", "at_risk", days(-30))
    rows.stage("acme", "at_risk", "adoption", days(-10))
    lane = bars(account_360(session, "acme", now=NOW), "Lifecycle")
    assert [(b.label, b.start, b.end, b.state) for b in lane] == [
        ("Trial", days(-100), days(-90), BarState.DONE),
        ("Requirements", days(-90), days(-80), BarState.DONE),
        ("Onboarding", days(-80), days(-30), BarState.DONE),
        ("At risk", days(-30), days(-10), BarState.DONE),
        ("Adoption", days(-10), NOW, BarState.ACTIVE),
    ]


def test_onboarding_lane_shows_what_the_onboarding_workflow_recorded(
    session: Session, rows: Rows
) -> None:
    rows.account("acme")
    flow = "onboarding-acme"
    rows.touch("acme", "email", days(-60), workflow_id=flow, step="kickoff")  # the invite
    rows.touch("acme", "meeting", days(-55), workflow_id=flow, step="kickoff")
    rows.touch("acme", "email", days(-50), workflow_id=flow, step="training")
    rows.touch("acme", "email", days(-40), workflow_id=flow, step="complete")
    rows.touch("acme", "email", days(-40), workflow_id="journey-acme", step="complete")
    lane = bars(account_360(session, "acme", now=NOW), "Onboarding")
    assert [(b.label, b.start, b.end) for b in lane] == [
        ("Kickoff call", days(-55), days(-55)),
        ("Training material sent", days(-50), days(-50)),
        ("Onboarding complete", days(-40), days(-40)),
    ]


def test_handoffs_go_to_their_functions_lanes_named_as_the_map_names_them(
    session: Session, rows: Rows
) -> None:
    rows.account("acme")
    rows.handoff("acme", "billing_setup", "finance", "done", days(-90), days(-88), done=days(-89))
    rows.handoff("acme", "kickoff_scheduled", "customer_success", "overdue", days(-20), days(-5))
    rows.handoff("acme", "support_review", "support", "blocked", days(-3), days(11))
    rows.handoff("acme", "roadmap_input", "product", "waiting", days(40), days(70))
    rows.handoff("acme", "renewal_invoice", "finance", "open", days(-2), days(12), cycle=1)
    view = account_360(session, "acme", now=NOW)
    finance = bars(view, "Finance")
    assert [(b.label, b.start, b.end, b.state) for b in finance] == [
        ("Billing setup", days(-90), days(-89), BarState.DONE),
        ("Renewal invoice, cycle 2", days(-2), days(12), BarState.ACTIVE),
    ]
    (late,) = bars(view, "Customer Success")
    # Overdue: drawn until today, with its due date marked.
    assert (late.start, late.end, late.state) == (days(-20), NOW, BarState.OVERDUE)
    assert [(m.label, m.at) for m in late.markers] == [("Due", days(-5))]
    assert bars(view, "Support")[0].state == BarState.BLOCKED
    assert bars(view, "Product")[0].state == BarState.PLANNED
    # Lanes in the map's order of functions (sales, customer success, support, ... finance).
    lanes = view.gantt.lanes
    assert lanes.index("Customer Success") < lanes.index("Support") < lanes.index("Finance")


def test_escalations_show_their_sla_deadlines_and_breaches(session: Session, rows: Rows) -> None:
    rows.account("acme", segment="smb")  # SMB: acknowledge within 8 hours, resolve within 10 days
    resolved, open_one = "escalation-acme-ticket-1", "escalation-acme-ticket-2"
    rows.task(
        "acme",
        "Escalation opened (high): Export broken",
        created=days(-30),
        due=days(-30) + timedelta(hours=8),
        status="done",
        completed=days(-26),
        outcome="the escalation was resolved",
        workflow_id=resolved,
        key=f"{resolved}:opened:task",
    )
    rows.task(
        "acme",
        "Escalation opened (urgent): Login fails",
        created=days(-12),
        due=days(-12) + timedelta(hours=8),
        workflow_id=open_one,
        key=f"{open_one}:opened:task",
    )
    rows.task(
        "acme",
        "Escalation SLA missed (acknowledge): Login fails",
        created=days(-12) + timedelta(hours=8),
        owner="manager@csflow.example",
        workflow_id=open_one,
        key=f"{open_one}:sla:acknowledge:task",
    )
    view = account_360(session, "acme", now=NOW)
    first, second = bars(view, "Escalations")
    assert (first.label, first.start, first.end, first.state) == (
        "Export broken",
        days(-30),
        days(-26),
        BarState.DONE,
    )
    # Still open 12 days in, 2 days past its resolve-by time.
    assert (second.label, second.end, second.state) == ("Login fails", NOW, BarState.OVERDUE)
    assert [(m.label, m.at) for m in second.markers] == [
        ("Acknowledge by", days(-12) + timedelta(hours=8)),
        ("Resolve by", days(-2)),
        ("SLA missed", days(-12) + timedelta(hours=8)),
    ]
    # The escalations' tasks are not repeated in the tasks lane.
    assert bars(view, "Tasks") == []


def test_an_escalation_whose_follow_up_survey_went_out_is_resolved(
    session: Session, rows: Rows
) -> None:
    rows.account("acme")
    flow = "escalation-acme-nps-7"
    rows.task("acme", "Escalation opened (high): NPS detractor: scored 2", created=days(-9),
              status="done", completed=days(-8), outcome="called", workflow_id=flow,
              key=f"{flow}:opened:task")  # fmt: skip
    rows.answer("acme", "csat", None, days(-3), workflow_id=flow)
    (bar,) = bars(account_360(session, "acme", now=NOW), "Escalations")
    # Acknowledged on day -8 (the CSM completed the task), resolved when the survey was created.
    assert (bar.end, bar.state) == (days(-4), BarState.DONE)


def test_playbooks_span_their_timeline_and_stay_open_while_a_task_is(
    session: Session, rows: Rows
) -> None:
    rows.account("acme")
    nps = "playbook-nps-acme-survey_12"
    usage = "playbook-usage-acme-2026-05"
    rows.touch("acme", "email", days(-20), workflow_id=nps)
    rows.touch("acme", "task", days(-15), workflow_id=nps)
    rows.task("acme", "Call the detractor", due=days(4), workflow_id=nps)
    rows.touch("acme", "email", days(-60), workflow_id=usage)
    rows.touch("acme", "email", days(-45), workflow_id=usage)
    view = account_360(session, "acme", now=NOW)
    assert [(b.label, b.start, b.end, b.state) for b in bars(view, "Playbooks")] == [
        ("Usage fluctuation", days(-60), days(-45), BarState.DONE),
        ("NPS follow-up", days(-20), days(4), BarState.ACTIVE),
    ]


def test_tasks_lane_states_and_limit(session: Session, rows: Rows) -> None:
    rows.account("acme")
    rows.task("acme", "Late", created=days(-9), due=days(-2))
    rows.task("acme", "Upcoming", created=days(-1), due=days(5))
    rows.task("acme", "Done", created=days(-8), due=days(-1), status="done", completed=days(-3))
    rows.task("acme", "Dropped", created=days(-7), status="cancelled", completed=days(-6))
    view = account_360(session, "acme", now=NOW)
    assert [(b.label, b.end, b.state) for b in bars(view, "Tasks")] == [
        ("Late", NOW, BarState.OVERDUE),
        ("Done", days(-3), BarState.DONE),
        ("Dropped", days(-6), BarState.SKIPPED),
        ("Upcoming", days(5), BarState.ACTIVE),
    ]
    assert (view.open_tasks, view.overdue_tasks) == (2, 1)
    for n in range(40):
        rows.task(
            "acme", f"Old {n}", created=days(-200 + n), status="done", completed=days(-199 + n)
        )
    view = account_360(session, "acme", now=NOW)
    assert len(bars(view, "Tasks")) == 30 and view.gantt.tasks_left_out == 14
    assert "Upcoming" in [b.label for b in bars(view, "Tasks")]


def test_renewal_lane_opens_the_segments_lead_time_before_the_end(
    session: Session, rows: Rows
) -> None:
    rows.account("acme", segment="mid_market")  # mid-market: 60 days' lead time
    ends = NOW.date() + timedelta(days=100)
    rows.contract("acme", ends - timedelta(days=365), status="renewed", closed=days(-270))
    rows.contract("acme", ends)
    view = account_360(session, "acme", now=NOW)
    before, current = bars(view, "Renewal")
    assert (before.label, before.state, before.end) == ("Renewed", BarState.DONE, days(-270))
    assert current.label == "Renewal window" and current.state == BarState.PLANNED
    assert current.start == days(40).replace(hour=0) and current.end == days(100).replace(hour=0)
    assert [m.label for m in current.markers] == ["Contract ends"]
    assert view.contract is not None and view.contract.status == ContractStatus.ACTIVE
    assert [c.status for c in view.contracts] == [ContractStatus.ACTIVE, ContractStatus.RENEWED]
    # The axis reaches the renewal and keeps today on it.
    assert view.gantt.start <= NOW <= view.gantt.end and view.gantt.end >= current.end


def test_timeline_pages_newest_first(session: Session, rows: Rows) -> None:
    rows.account("acme")
    for n in range(TIMELINE_PER_PAGE + 5):
        rows.touch("acme", "note", days(-n), summary=f"entry {n}", details={"logged_by": "x@y.z"})
    rows.account("other")
    rows.touch("other", "note", NOW, summary="not acme's")
    first = account_360(session, "acme", now=NOW).timeline
    assert (first.total, first.pages, first.page) == (30, 2, 1)
    assert [e.summary for e in first.entries[:2]] == ["entry 0", "entry 1"]
    assert first.entries[0].by == "x@y.z"
    last = account_360(session, "acme", now=NOW, timeline_page=7).timeline
    assert last.page == 2
    assert [e.summary for e in last.entries] == [f"entry {n}" for n in range(25, 30)]


def test_health_history_and_the_latest_explanation(session: Session, rows: Rows) -> None:
    rows.account("acme", health=35)
    rows.score("acme", 80, days(-400))  # older than a year: not charted
    rows.score("acme", 62, days(-60))
    rows.score("acme", 35, days(-1))
    view = account_360(session, "acme", now=NOW)
    assert [(r.score, r.band) for r in view.health_history] == [
        (62, HealthBand.AT_RISK),
        (35, HealthBand.CRITICAL),
    ]
    assert view.health_band == HealthBand.CRITICAL
    assert view.health is not None and view.health.score == 35
    assert view.health.components[0].explanation == "35% of seats active"
    assert view.health.changes is not None and view.health.changes.score_delta == -27


def test_contacts_and_an_account_without_history(session: Session, rows: Rows) -> None:
    rows.account("acme", stage="trial", created=days(-3))
    rows.contact("acme", "pat-champion")
    rows.contact("acme", "ann-user", role="user")
    view = account_360(session, "acme", now=NOW)
    assert [c.name for c in view.contacts] == ["Ann User", "Pat Champion"]
    assert view.contract is None and view.health is None and view.health_band is None
    assert view.timeline.entries == [] and view.timeline.pages == 1
    assert [(b.label, b.start, b.end) for b in view.gantt.bars] == [("Trial", days(-3), NOW)]
