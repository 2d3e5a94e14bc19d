"""A CRM that looks like the demo's after most of a year, written in a second instead of simulated
for minutes: the six demo customers (starter.demo_customers), contracts that renew in about two
months, lifecycle stages, a weekly health history, emails, calls, NPS answers (one comment holds a
`<script>` tag), CSM tasks overdue, due today and upcoming, and console users (two CSMs and a
manager). Rows are written by the real CRM, survey and health code, backdated through
`crm.tables.CAUSED_AT` as activities backdate to workflow time.

Casey owns four accounts and Robin two (Hooli and Stark), so each CSM has another's accounts
to be refused."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import cast

from temporalio.client import Client

from activities.crm import CrmActivities
from activities.handoffs import HandoffActivities
from activities.health import HealthActivities
from activities.surveys import SurveyActivities
from crm.database import Store
from crm.logged_touchpoints import LoggedKind, TouchpointLog, log_touchpoint
from crm.tables import CAUSED_AT, EmailSendRow
from domain.handoffs import HandoffProgress, HandoffState, HandoffUpdate
from domain.models import (
    EmailStatus,
    HealthInputs,
    LifecycleStage,
    StageChange,
    SurveyAnswer,
    SurveyKind,
    SurveyRequest,
    TaskCompletion,
    TaskInput,
    TaskPriority,
    TouchpointInput,
    TouchpointKind,
)
from domain.process_map import load_map
from domain.settings import Settings
from starter.console.users import ConsoleRole, add_user
from starter.demo_customers import TEAM, demo_customers
from workflows.workflow_ids import journey_id

CASEY = "casey.csm@csflow.example"
ROBIN = "robin.csm@csflow.example"
MORGAN = TEAM["cs_manager"]
PASSWORDS = {
    CASEY: "casey's console passphrase",
    ROBIN: "robin's console passphrase",
    MORGAN: "morgan's console passphrase",
}
SCRIPT_COMMENT = '<script>document.title="pwned"</script> The nightly sync still fails.'
DAYS_IN = 300  # how far into its first contract year each account is
_ROBINS = {"Hooli", "Stark"}
# (stage, day entered) per account, after the trial and requirements every account went through.
_STAGES = {
    "Acme Corp": [(LifecycleStage.ADOPTION, 40), (LifecycleStage.RENEWAL, 276)],
    "Globex": [(LifecycleStage.ADOPTION, 45)],
    "Initech": [(LifecycleStage.ADOPTION, 40), (LifecycleStage.AT_RISK, 205)],
    "Umbrella": [(LifecycleStage.ADOPTION, 38), (LifecycleStage.RENEWAL, 276)],
    "Hooli": [(LifecycleStage.ADOPTION, 42)],
    "Stark": [(LifecycleStage.ADOPTION, 41), (LifecycleStage.EXPANSION, 230)],
}
# What the onboarding workflow writes: (day, kind, step, summary).
_ONBOARDING = [
    (9, TouchpointKind.MEETING, "kickoff", "Kickoff call with Sam Champion"),
    (10, TouchpointKind.EMAIL, "training", "Email to Sam Champion: Getting started guides"),
    (30, TouchpointKind.EMAIL, "complete", "Email to Sam Champion: Onboarding complete"),
]
# CSAT answers after support tickets: (day, score) per account.
_CSAT = {"Acme Corp": [(120, 5), (240, 4)], "Initech": [(125, 2), (210, 3)], "Hooli": [(180, 4)]}
# NPS answer of each account's champion on day 200 (Globex never answers).
_NPS = {"Acme Corp": 9, "Initech": 3, "Umbrella": 7, "Hooli": 8, "Stark": 8}


@dataclass
class ConsoleData:
    now: datetime
    accounts: dict[str, str] = field(default_factory=dict)  # name -> id
    owners: dict[str, str] = field(default_factory=dict)  # name -> CSM
    tasks: dict[str, int] = field(default_factory=dict)  # title -> id

    def of(self, csm: str) -> list[str]:
        return sorted(name for name, owner in self.owners.items() if owner == csm)


@contextmanager
def caused_at(moment: datetime) -> Iterator[None]:
    token = CAUSED_AT.set(moment)
    try:
        yield
    finally:
        CAUSED_AT.reset(token)


def _usage(name: str, account_id: str, day: int) -> HealthInputs:
    """The facts of `name`'s account on `day`, as its demo behaviour would have them."""
    nps = _NPS.get(name) if day >= 200 else None
    if name == "Acme Corp":
        return HealthInputs(
            account_id=account_id, licensed_seats=50, active_users=min(30 + day // 20, 47),
            feature_adoption=min(0.4 + day / 600, 0.85), latest_nps=nps,
            days_since_last_touchpoint=3, outreach_sent_90d=6, outreach_replied_90d=5,
        )  # fmt: skip
    if name == "Globex":
        return HealthInputs(
            account_id=account_id, licensed_seats=40, active_users=max(20 - day // 25, 6),
            feature_adoption=0.3, days_since_last_touchpoint=min(day // 3, 60),
            outreach_sent_90d=8, outreach_replied_90d=0, auto_renew=True,
        )  # fmt: skip
    if name == "Initech":
        trouble = 120 <= day
        return HealthInputs(
            account_id=account_id, licensed_seats=10, active_users=3 if trouble else 6,
            feature_adoption=0.3, open_tickets=2 if trouble else 0,
            urgent_tickets=1 if trouble else 0, open_escalations=1 if day >= 205 else 0,
            latest_nps=nps, days_since_last_touchpoint=10,
        )  # fmt: skip
    if name == "Umbrella":
        return HealthInputs(
            account_id=account_id, licensed_seats=5, active_users=2, feature_adoption=0.4,
            latest_nps=nps, days_since_last_touchpoint=14,
        )  # fmt: skip
    if name == "Hooli":
        users = 12 if 120 <= day < 150 else (45 if day >= 200 else 30)
        return HealthInputs(
            account_id=account_id, licensed_seats=40, active_users=min(users, 40),
            feature_adoption=0.6, latest_nps=nps, days_since_last_touchpoint=7, auto_renew=True,
        )  # fmt: skip
    return HealthInputs(
        account_id=account_id, licensed_seats=80, active_users=60, feature_adoption=0.7,
        latest_nps=nps, champion_engaged=day < 150, days_since_last_touchpoint=5, auto_renew=True,
    )  # fmt: skip


def seed_console_crm(store: Store, settings: Settings, now: datetime | None = None) -> ConsoleData:
    """Write the demo-like CRM into `store` (migrated, empty) as of `now`."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    data = ConsoleData(now=now)
    crm = CrmActivities(store)
    health = HealthActivities(store, settings)
    surveys = SurveyActivities(store, settings)
    began = now - timedelta(days=DAYS_IN)
    # Only the accounts are used: their customers never act here.
    customers = demo_customers(cast(Client, None), began.date(), "console")
    for customer in customers:
        name = customer.account.name
        owner = ROBIN if name in _ROBINS else CASEY
        account = customer.account.model_copy(update={"csm_owner": owner})
        data.accounts[name], data.owners[name] = account.id, owner
        with caused_at(began):
            crm._upsert(account)

        def on(day: int) -> datetime:
            return began + timedelta(days=day, hours=10)

        for stage, day in [
            (LifecycleStage.REQUIREMENTS, 1),
            (LifecycleStage.ONBOARDING, 8),
            *_STAGES[name],
        ]:
            with caused_at(on(day)):
                crm._set_stage(
                    StageChange(
                        account_id=account.id,
                        stage=stage,
                        reason="seeded",
                        workflow_id=journey_id(account.id),
                    )
                )
        for day, kind, step, summary in _ONBOARDING:
            with caused_at(on(day)):
                crm._append(
                    TouchpointInput(
                        account_id=account.id,
                        kind=kind,
                        summary=summary,
                        workflow_id=f"onboarding-{account.id}",
                        step=step,
                        idempotency_key=f"onboarding:{account.id}:{step}",
                    )
                )
        for week, day in enumerate(range(7, DAYS_IN, 7)):
            facts = _usage(name, account.id, day).model_copy(
                update={"now": on(day), "idempotency_key": f"health:{account.id}:{week}"}
            )
            with caused_at(on(day)):
                health._compute(facts)
        for day, summary in ((2, "Welcome to the product"), (60, "Your first quarter in review")):
            with caused_at(on(day)):
                crm._append(
                    TouchpointInput(
                        account_id=account.id,
                        kind=TouchpointKind.EMAIL,
                        summary=f"Email to Sam Champion: {summary}",
                        idempotency_key=f"email:{account.id}:{day}",
                    )
                )
        score = _NPS.get(name)
        if score is not None:
            with caused_at(on(198)):
                survey = surveys._create(
                    SurveyRequest(
                        account_id=account.id,
                        contact_id=f"{account.id}-champion",
                        kind=SurveyKind.NPS,
                        idempotency_key=f"nps:{account.id}",
                    )
                )
            comment = SCRIPT_COMMENT if name == "Initech" else "Works well for us."
            with caused_at(on(200)):
                surveys._record(SurveyAnswer(token=survey.token, score=score, comment=comment))
        for day, csat in _CSAT.get(name, []):
            with caused_at(on(day)):
                survey = surveys._create(
                    SurveyRequest(
                        account_id=account.id,
                        contact_id=f"{account.id}-champion",
                        kind=SurveyKind.CSAT,
                        topic="support ticket",
                        idempotency_key=f"csat:{account.id}:{day}",
                    )
                )
                surveys._record(SurveyAnswer(token=survey.token, score=csat))
    _workflow_work(crm, data)
    _handoffs(store, data)
    _emails(store, data)
    _tasks(crm, store, data)
    for email, password in PASSWORDS.items():
        role = ConsoleRole.MANAGER if email == MORGAN else ConsoleRole.CSM
        add_user(store, email, role, password)
    return data


def _emails(store: Store, data: ConsoleData) -> None:
    """The email ledger's rows: each onboarding's completion email (day 30), a weekly check-in
    to every champion over the last twelve weeks, and a second one some weeks (Globex, chased
    while silent, gets three: over the weekly cap)."""
    began = data.now - timedelta(days=DAYS_IN)

    def sent(account_id: str, key: str, template: str, at: datetime) -> EmailSendRow:
        return EmailSendRow(
            idempotency_key=key,
            account_id=account_id,
            contact_id=f"{account_id}-champion",
            to_email=f"sam@{account_id}.example",
            template=template,
            subject=template.replace("_", " ").capitalize(),
            category="lifecycle",
            status=EmailStatus.OUTBOXED.value,
            provider="outbox",
            attempts=1,
            created_at=at,
            sent_at=at,
        )

    with store.session() as session:
        for name, account_id in data.accounts.items():
            done = began + timedelta(days=30, hours=10)
            session.add(
                sent(account_id, f"onboarding-{account_id}:complete", "onboarding_complete", done)
            )
            for week in range(12):
                at = data.now - timedelta(weeks=week, days=1)
                per_week = 3 if name == "Globex" else (2 if week % 3 == 0 else 1)
                for n in range(per_week):
                    key = f"check-in:{account_id}:{week}:{n}"
                    session.add(sent(account_id, key, "check_in", at - timedelta(hours=n)))


def _workflow_work(crm: CrmActivities, data: ConsoleData) -> None:
    """Initech's detractor escalation (opened day 200, resolved day 202) and Stark's
    champion-change playbook (day 150), as their workflows record them."""
    began = data.now - timedelta(days=DAYS_IN)
    initech, stark = data.accounts["Initech"], data.accounts["Stark"]
    escalation = f"escalation-{initech}-detractor"
    with caused_at(began + timedelta(days=200)):
        task = crm.create_task_once(
            TaskInput(
                account_id=initech,
                owner=CASEY,
                title="Escalation opened (high): NPS detractor: scored 3",
                priority=TaskPriority.HIGH,
                due_at=began + timedelta(days=201),
                workflow_id=escalation,
                idempotency_key=f"{escalation}:opened:task",
            )
        )
    with caused_at(began + timedelta(days=202)):
        crm._complete_task(TaskCompletion(task_id=task.id, outcome="called them back"))
    playbook = f"playbook-contact-{stark}-{stark}-champion-none"
    for day, summary in ((150, "Champion left: Sam Champion"), (152, "Introduction email")):
        with caused_at(began + timedelta(days=day)):
            crm._append(
                TouchpointInput(
                    account_id=stark,
                    kind=TouchpointKind.NOTE if day == 150 else TouchpointKind.EMAIL,
                    summary=summary,
                    workflow_id=playbook,
                    idempotency_key=f"{playbook}:{day}",
                )
            )


def _handoffs(store: Store, data: ConsoleData) -> None:
    """Initech's process map as its workflow records it: Finance and Sales done on day 1, the
    kickoff on day 16, Services' obstacle review late (escalated on day 33, done on day 36),
    Support's key-user training open."""
    began = data.now - timedelta(days=DAYS_IN)
    process_map, account = load_map(), data.accounts["Initech"]
    handoffs = HandoffActivities(store)
    for milestone_id, starts, done, escalated in (
        ("billing_setup", 0, 1, None),
        ("sales_handover", 0, 1, None),
        ("kickoff_scheduled", 14, 16, None),
        ("obstacle_review", 28, 36, 33),
        ("key_user_training", 21, None, None),
    ):
        milestone = process_map.milestone(milestone_id)
        function = process_map.function(milestone.function)
        opened = began + timedelta(days=starts)
        progress = HandoffProgress(
            milestone_id=milestone_id,
            state=HandoffState.OPEN,
            starts_at=opened,
            due_at=opened + milestone.due_within,
            opened_at=opened,
        )
        changes = [(starts, progress, f"handed to {function.name}", "csflow")]
        if escalated is not None:
            late = progress.model_copy(
                update={
                    "state": HandoffState.OVERDUE,
                    "escalated_at": began + timedelta(days=escalated),
                }
            )
            changes.append((escalated, late, f"overdue, escalated to {function.lead}", "csflow"))
            progress = late
        if done is not None:
            finished = progress.model_copy(
                update={
                    "state": HandoffState.DONE,
                    "done_at": began + timedelta(days=done),
                    "done_by": function.owner,
                    "evidence": "notes in the shared folder",
                }
            )
            changes.append((done, finished, f"done by {function.owner}", function.owner or ""))
        for day, state, summary, actor in changes:
            at = began + timedelta(days=day)
            handoffs.record(
                HandoffUpdate(
                    account_id=account,
                    progress=state,
                    function=function.name,
                    title=milestone.title,
                    owner=function.owner or "",
                    map_version=process_map.label,
                    workflow_id=f"process-map-{account}",
                    summary=f"{function.name}: {milestone.title}: {summary}",
                    actor=actor,
                    source="console" if actor != "csflow" else "process map",
                    at=at,
                    idempotency_key=f"process-map-{account}:{milestone_id}:{state.state.value}",
                )
            )


def _tasks(crm: CrmActivities, store: Store, data: ConsoleData) -> None:
    now = data.now
    midnight = datetime.combine(now.date(), time(0), tzinfo=UTC)
    plan = [
        # (account, owner, title, priority, due)
        ("Initech", CASEY, "Call Initech about the failed nightly sync", TaskPriority.HIGH,
         now - timedelta(days=2)),
        ("Acme Corp", CASEY, "Prepare the renewal call with Acme Corp", TaskPriority.URGENT,
         midnight + timedelta(hours=16)),
        ("Globex", CASEY, "Send Globex the onboarding recap", TaskPriority.NORMAL,
         midnight + timedelta(hours=11)),
        ("Umbrella", CASEY, "Quarterly review with Umbrella", TaskPriority.NORMAL,
         now + timedelta(days=3)),
        ("Acme Corp", CASEY, "Tidy the Acme Corp contact list", TaskPriority.LOW, None),
        ("Globex", CASEY, "Check in with Globex", TaskPriority.NORMAL,
         midnight + timedelta(hours=9)),
        ("Stark", ROBIN, "Meet Stark's new decision maker", TaskPriority.HIGH,
         midnight + timedelta(hours=14)),
        ("Hooli", ROBIN, "Expansion proposal for Hooli", TaskPriority.NORMAL,
         now + timedelta(days=5)),
    ]  # fmt: skip
    with caused_at(now - timedelta(days=7)):
        for account, owner, title, priority, due in plan:
            task = crm.create_task_once(
                TaskInput(
                    account_id=data.accounts[account],
                    owner=owner,
                    title=title,
                    priority=priority,
                    due_at=due,
                    description="Seeded for the console tests." if due is None else "",
                    idempotency_key=f"task:{title}",
                )
            )
            data.tasks[title] = task.id
    # Done today: one of today's tasks, and a call logged.
    with caused_at(now):
        crm._complete_task(
            TaskCompletion(task_id=data.tasks["Check in with Globex"], outcome="left a voicemail")
        )
    log_touchpoint(
        store,
        data.accounts["Acme Corp"],
        TouchpointLog(kind=LoggedKind.CALL, summary="Walked through the renewal", by=CASEY),
        now=now,
    )
