"""`csflow demo`: a simulated customer year on the embedded time-skipping devserver.

Six accounts with scripted behaviour: one answers everything (and upgrades), one goes silent, one
raises a ticket and scores 3 on NPS, one churns at renewal, one whose usage dips and then climbs,
one whose champion leaves. A nightly health schedule, a feature-release campaign and a scheduled
renewal campaign run alongside. Real activities, a fresh SQLite file and the email outbox under
var/.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from temporalio.client import Client, ScheduleHandle, ScheduleIntervalSpec, ScheduleSpec
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from domain.models import AccountUpsert, ContactInput, ContactRole, ContractInput, Segment
from domain.segments import default_config
from starter.api import (
    ensure_nightly_health_schedule,
    escalation_action,
    journey_status,
    schedule_campaign,
    send_event,
    start_campaign,
    start_journey,
)
from workflows.campaign import CampaignInput, CampaignKind
from workflows.campaign_activities import SegmentQuery
from workflows.customer_event import CustomerEvent
from workflows.escalation import EscalationAction, EscalationActionKind
from workflows.journey_state import JourneyInput, JourneyStatus

TEAM = {
    "cs_manager": "morgan.manager@csflow.example",
    "vp_customer_success": "vera.vp@csflow.example",
    "cro": "chris.cro@csflow.example",
}
SIMULATED_DAYS = 380


class AccountSummary(BaseModel):
    account_id: str
    name: str
    segment: str
    behaviour: str
    stages: list[str]
    final_stage: str
    emails_sent: int
    surveys: list[dict[str, Any]]
    tasks_created: int
    open_tasks: list[str]
    alerts: int
    escalations: list[dict[str, Any]]
    renewal_outcome: str | None
    health_score: int | None
    segment_key: str | None = None
    playbooks: list[dict[str, Any]] = []
    health_history: list[dict[str, Any]] = []
    segment_history: list[str] = []
    campaigns: list[str] = []


class DemoSummary(BaseModel):
    simulated_days: int
    started_at: datetime
    ended_at: datetime
    database: str
    outbox: str
    accounts: list[AccountSummary]


Script = Callable[["Customer", int, JourneyStatus], Awaitable[None]]


class Customer:
    def __init__(
        self, client: Client, account: AccountUpsert, behaviour: str, script: Script
    ) -> None:
        self.client, self.account, self.behaviour, self.script = client, account, behaviour, script
        self.answered_tokens: set[str] = set()
        self.start = account.contract.start_date if account.contract else date.today()
        self.done: set[str] = set()

    async def send(self, type_: str, **payload: Any) -> None:
        await send_event(
            self.client, CustomerEvent(account_id=self.account.id, type=type_, payload=payload)
        )

    async def once(self, step: str, type_: str, **payload: Any) -> None:
        if step not in self.done:
            self.done.add(step)
            await self.send(type_, **payload)

    async def answer_surveys(self, status: JourneyStatus, nps: int, csat: int) -> None:
        for survey in status.surveys:
            if survey.token in self.answered_tokens:
                continue
            self.answered_tokens.add(survey.token)
            score = nps if survey.kind == "nps" else csat
            await self.send(
                "survey_answered", token=survey.token, kind=survey.kind.value, score=score
            )


async def _engaged(c: Customer, day: int, status: JourneyStatus) -> None:
    """Answers everything promptly and renews."""
    if status.stage == "requirements":
        await c.once(
            "answers",
            "questionnaire_answered",
            reasons_for_purchase="scale CS",
            intended_use="automate renewals",
            previous_tools=["spreadsheets"],
        )
    if status.stage == "onboarding" and day >= 3:
        await c.once(
            "login",
            "usage_reported",
            milestone="first_login",
            active_users=40,
            licensed_seats=50,
            feature_adoption=0.5,
        )
    if status.stage == "onboarding" and day >= 6:
        await c.once(
            "key",
            "usage_reported",
            milestone="first_key_action",
            active_users=45,
            licensed_seats=50,
            feature_adoption=0.7,
        )
    await c.answer_surveys(status, nps=9, csat=5)
    if day >= 200:
        await c.once(
            "upgrade",
            "plan_changed",
            plan="enterprise-plus",
            previous_plan="standard",
            new_features=["Playbooks", "SSO"],
        )
    if status.stage == "renewal":
        await c.once("reply", "email_replied", subject="Re: your renewal")
        if status.contract_end is not None:
            await c.once(
                "renew",
                "contract_renewed",
                new_end_date=_next_year(status.contract_end).isoformat(),
            )


async def _silent(c: Customer, day: int, status: JourneyStatus) -> None:
    """Never answers anything; the contract auto-renews."""


async def _unhappy(c: Customer, day: int, status: JourneyStatus) -> None:
    """Onboards, then raises a ticket, scores 3 on NPS, and still renews."""
    if status.stage == "requirements":
        await c.once(
            "answers",
            "questionnaire_answered",
            reasons_for_purchase="replace tool",
            intended_use="onboarding",
        )
    if status.stage == "onboarding":
        await c.once(
            "login", "usage_reported", milestone="first_login", active_users=3, licensed_seats=10
        )
        if day >= 20:
            await c.once(
                "key",
                "usage_reported",
                milestone="first_key_action",
                active_users=4,
                licensed_seats=10,
            )
    if status.stage == "adoption" and day >= 60:
        await c.once(
            "ticket",
            "ticket_opened",
            ticket_id="SUP-101",
            subject="Data sync fails nightly",
            severity="high",
        )
    ticket = next((e for e in status.escalations if e.ticket_id == "SUP-101"), None)
    if ticket is not None and ticket.open and day >= 61 and "ack" not in c.done:
        # Support acknowledges a day late (missed SLA), then resolves two days on.
        c.done.add("ack")
        await escalation_action(
            c.client, ticket.escalation_id, EscalationAction(kind=EscalationActionKind.ACKNOWLEDGED)
        )
    if ticket is not None and ticket.open and day >= 63:
        await c.once("resolved", "ticket_resolved", ticket_id="SUP-101")
    for detractor in status.escalations:
        if detractor.source == "detractor" and detractor.open:
            # The CSM calls the customer back and closes the loop.
            opened_day = (detractor.opened_at.date() - c.start).days
            if day >= opened_day + 2 and f"close:{detractor.escalation_id}" not in c.done:
                c.done.add(f"close:{detractor.escalation_id}")
                await escalation_action(
                    c.client,
                    detractor.escalation_id,
                    EscalationAction(kind=EscalationActionKind.RESOLVED, by="csm"),
                )
    await c.answer_surveys(status, nps=3, csat=2)
    if status.stage == "renewal" and status.contract_end is not None:
        await c.once(
            "renew", "contract_renewed", new_end_date=_next_year(status.contract_end).isoformat()
        )


async def _churner(c: Customer, day: int, status: JourneyStatus) -> None:
    """Onboards fine, then cancels when the renewal comes up."""
    if status.stage == "requirements":
        await c.once(
            "answers",
            "questionnaire_answered",
            reasons_for_purchase="try it",
            intended_use="surveys",
        )
    if status.stage == "onboarding":
        await c.once(
            "login", "usage_reported", milestone="first_login", active_users=2, licensed_seats=5
        )
        await c.once(
            "key", "usage_reported", milestone="first_key_action", active_users=2, licensed_seats=5
        )
    await c.answer_surveys(status, nps=7, csat=4)
    if status.stage == "renewal":
        await c.once("cancel", "contract_cancelled", reason="budget cuts")


async def _fluctuating(c: Customer, day: int, status: JourneyStatus) -> None:
    """Onboards, then usage dips in spring (CSM check-in) and climbs in autumn (expansion)."""
    await _onboard_quietly(c, status, users=30, seats=40)
    if status.stage != "adoption" or day % 10:
        return
    users = 30
    if 120 <= day < 150:
        users = 12
    elif day >= 200:
        users = 45
    await c.send("usage_reported", active_users=users, licensed_seats=40, feature_adoption=0.6)
    await c.answer_surveys(status, nps=8, csat=4)


async def _champion_leaves(c: Customer, day: int, status: JourneyStatus) -> None:
    """Onboards; the champion leaves in month five, the decision maker takes over."""
    await _onboard_quietly(c, status, users=60, seats=80)
    if day >= 150:
        champion = next(x for x in c.account.contacts if x.role == ContactRole.CHAMPION)
        await c.once("left", "contact_changed", contact=champion.model_dump(), left=True)
    if day >= 155:
        await c.once("reply", "email_replied", subject="Re: introduction")
    await c.answer_surveys(status, nps=8, csat=4)


async def _onboard_quietly(c: Customer, status: JourneyStatus, users: int, seats: int) -> None:
    if status.stage == "requirements":
        await c.once(
            "answers", "questionnaire_answered", reasons_for_purchase="x", intended_use="y"
        )
    if status.stage == "onboarding":
        for milestone in ("first_login", "first_key_action"):
            await c.once(
                milestone,
                "usage_reported",
                milestone=milestone,
                active_users=users,
                licensed_seats=seats,
            )


def _next_year(day: date) -> date:
    return (
        day.replace(year=day.year + 1)
        if not (day.month == 2 and day.day == 29)
        else (day + timedelta(days=365))
    )


def _account(
    account_id: str, name: str, segment: Segment, arr: float, start: date, auto_renew: bool
) -> AccountUpsert:
    return AccountUpsert(
        id=account_id,
        name=name,
        arr=arr,
        segment=segment,
        csm_owner="casey.csm@csflow.example",
        contacts=[
            ContactInput(
                id=f"{account_id}-champion",
                name="Sam Champion",
                email=f"sam@{account_id}.example",
                role=ContactRole.CHAMPION,
            ),
            ContactInput(
                id=f"{account_id}-dm",
                name="Dee Decider",
                email=f"dee@{account_id}.example",
                role=ContactRole.DECISION_MAKER,
            ),
        ],
        contract=ContractInput(
            start_date=start, end_date=start + timedelta(days=365), value=arr, auto_renew=auto_renew
        ),
    )


def _devserver_path() -> str:
    return str(Path(sys.executable).parent / "devserver")


def _prepare_store(run_dir: Path) -> str:
    from crm.database import configure
    from crm.migrate import migrate

    run_dir.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{run_dir / 'csflow.db'}"
    os.environ["DATABASE_URL"] = url
    os.environ["CSFLOW_OUTBOX_DIR"] = str(run_dir / "outbox")
    os.environ.pop("SENDGRID_API_KEY", None)
    migrate(url)
    configure(url)
    return url


async def _environment() -> WorkflowEnvironment:
    if os.environ.get("TEMPORAL_ADDRESS"):
        from worker import connect

        return WorkflowEnvironment.from_client(await connect())
    return await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=_devserver_path(), data_converter=pydantic_data_converter
    )


async def run_demo(
    var_dir: Path = Path("var"), on_year_end: Callable[[Client], Awaitable[None]] | None = None
) -> DemoSummary:
    """Run the simulated year; `on_year_end` sees the server before the journeys are stopped
    (the replay-history generator saves histories there)."""
    from worker import all_activities, build_worker, ensure_search_attributes

    run_dir = var_dir / f"demo-{datetime.now().strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:4]}"
    url = _prepare_store(run_dir)
    env = await _environment()
    try:
        client = env.client
        await ensure_search_attributes(client)
        queue = f"csflow-demo-{uuid.uuid4().hex[:8]}"
        started_at = await env.get_current_time()
        start = started_at.date()
        suffix = uuid.uuid4().hex[:4]
        customers = [
            Customer(
                client,
                _account(f"acme-{suffix}", "Acme Corp", Segment.ENTERPRISE, 250_000, start, False),
                "answers everything",
                _engaged,
            ),
            Customer(
                client,
                _account(f"globex-{suffix}", "Globex", Segment.MID_MARKET, 45_000, start, True),
                "goes silent",
                _silent,
            ),
            Customer(
                client,
                _account(f"initech-{suffix}", "Initech", Segment.SMB, 12_000, start, False),
                "raises a ticket, scores 3 on NPS",
                _unhappy,
            ),
            Customer(
                client,
                _account(f"umbrella-{suffix}", "Umbrella", Segment.SMB, 9_000, start, False),
                "churns at renewal",
                _churner,
            ),
            Customer(
                client,
                _account(f"hooli-{suffix}", "Hooli", Segment.MID_MARKET, 60_000, start, True),
                "usage dips, then climbs",
                _fluctuating,
            ),
            Customer(
                client,
                _account(f"stark-{suffix}", "Stark", Segment.ENTERPRISE, 400_000, start, True),
                "champion leaves",
                _champion_leaves,
            ),
        ]
        async with build_worker(client, all_activities(), task_queue=queue):
            schedules: list[ScheduleHandle] = [
                await ensure_nightly_health_schedule(
                    client,
                    task_queue=queue,
                    schedule_id=f"nightly-health-{suffix}",
                    # Weekly in the demo: every night for a year would dominate its run time.
                    every_days=7,
                ),
                await schedule_campaign(
                    client,
                    CampaignInput(
                        campaign_id=f"enterprise-renewals-{suffix}",
                        kind=CampaignKind.RENEWAL_OUTREACH,
                        segment=SegmentQuery(segment_prefix="enterprise"),
                    ),
                    ScheduleSpec(intervals=[ScheduleIntervalSpec(every=timedelta(days=120))]),
                    task_queue=queue,
                ),
            ]
            for customer in customers:
                await start_journey(
                    client,
                    JourneyInput(
                        account=customer.account,
                        config=default_config(customer.account.effective_segment),
                        team=TEAM,
                    ),
                    CustomerEvent(account_id=customer.account.id, type="payment_received"),
                    task_queue=queue,
                )
            for day in range(SIMULATED_DAYS):
                for customer in customers:
                    status = await journey_status(client, customer.account.id)
                    if not status.finished:
                        await customer.script(customer, day, status)
                if day == 100:
                    await start_campaign(
                        client,
                        CampaignInput(
                            campaign_id=f"release-playbooks-{suffix}",
                            kind=CampaignKind.FEATURE_RELEASE,
                            context={"feature": "Playbooks"},
                            per_minute=2,
                        ),
                        task_queue=queue,
                    )
                await env.sleep(timedelta(days=1))
            statuses = [await journey_status(client, c.account.id) for c in customers]
            ended_at = await env.get_current_time()
            if on_year_end is not None:
                await on_year_end(client)
            for schedule in schedules:
                await schedule.delete()
            # The year is over: stop the journeys so the worker can shut down cleanly.
            async for execution in client.list_workflows("ExecutionStatus = 'Running'"):
                handle = client.get_workflow_handle(execution.id, run_id=execution.run_id)
                try:
                    await handle.terminate("demo finished")
                except RPCError as err:
                    if err.status != RPCStatusCode.NOT_FOUND:  # it finished meanwhile
                        raise
        return DemoSummary(
            simulated_days=SIMULATED_DAYS,
            started_at=started_at,
            ended_at=ended_at,
            database=url,
            outbox=os.environ["CSFLOW_OUTBOX_DIR"],
            accounts=[_summarise(c, s) for c, s in zip(customers, statuses, strict=True)],
        )
    finally:
        await env.shutdown()


def _summarise(customer: Customer, status: JourneyStatus) -> AccountSummary:
    return AccountSummary(
        account_id=status.account_id,
        name=status.account_name,
        segment=status.segment,
        behaviour=customer.behaviour,
        stages=[v.stage.value for v in status.stages],
        final_stage=status.stage.value,
        emails_sent=status.emails_sent,
        surveys=[
            {"kind": s.kind.value, "topic": s.topic, "score": s.score, "category": s.category}
            for s in status.surveys
        ],
        tasks_created=status.tasks_created,
        open_tasks=[t.title for t in status.open_tasks],
        alerts=status.alerts,
        escalations=[
            {
                "source": e.source,
                "summary": e.summary,
                "level": e.level,
                "missed_slas": e.missed_slas,
                "open": e.open,
            }
            for e in status.escalations
        ],
        renewal_outcome=(
            status.renewals[-1].outcome.value
            if status.renewals and status.renewals[-1].outcome
            else None
        ),
        health_score=status.health_score,
        segment_key=status.segment_key,
        playbooks=[
            {
                "kind": p.kind.value,
                "situation": p.situation,
                "summary": p.summary,
                "opened_at": p.opened_at.isoformat(),
                "open": p.open,
                "outcome": p.outcome,
            }
            for p in status.playbooks
        ],
        health_history=[
            {"at": h.at.isoformat(), "score": h.score, "band": h.band, "reason": h.reason}
            for h in status.health_history
        ],
        segment_history=_segment_changes(status),
        campaigns=list(status.campaigns),
    )


def _segment_changes(status: JourneyStatus) -> list[str]:
    changes: list[str] = []
    for point in status.health_history:
        if point.segment and (not changes or changes[-1].split(" ", 1)[1] != point.segment):
            changes.append(f"{point.at:%Y-%m-%d} {point.segment}")
    return changes


def render(summary: DemoSummary) -> str:
    lines = [
        f"csflow demo: {summary.simulated_days} simulated days "
        f"({summary.started_at:%Y-%m-%d} .. {summary.ended_at:%Y-%m-%d})",
        f"CRM database: {summary.database}   email outbox: {summary.outbox}",
        "",
    ]
    for a in summary.accounts:
        surveys = (
            ", ".join(
                f"{s['kind'].upper()}({s['topic']})="
                + (f"{s['score']} {s['category']}" if s["score"] is not None else "no answer")
                for s in a.surveys
            )
            or "none"
        )
        escalations = (
            "; ".join(
                f"{e['source']}: {e['summary']} "
                f"(level {e['level']}, missed SLAs: {', '.join(e['missed_slas']) or 'none'})"
                for e in a.escalations
            )
            or "none"
        )
        lines += [
            f"{a.name} [{a.segment}] - {a.behaviour}",
            f"  stages:      {' -> '.join(a.stages)}",
            f"  emails sent: {a.emails_sent}",
            f"  surveys:     {surveys}",
            f"  tasks:       {a.tasks_created} created, {len(a.open_tasks)} open",
            f"  escalations: {escalations}",
            f"  renewal:     {a.renewal_outcome or 'not due yet'}",
            f"  health:      {a.health_score if a.health_score is not None else 'n/a'}"
            f" ({len(a.health_history)} scores; nightly and on every change)",
            f"  segments:    {' -> '.join(s.split(' ', 1)[1] for s in a.segment_history) or 'n/a'}",
            f"  campaigns:   {len(a.campaigns)}",
            "  playbooks:   " + (f"{len(a.playbooks)}" if a.playbooks else "none"),
            *(
                f"    - {p['kind']}: {p['summary']}"
                + (f" => {p['outcome']}" if p["outcome"] else " (running)")
                for p in a.playbooks
            ),
            "",
        ]
    return "\n".join(lines)
