"""The six scripted customers of the simulated year, and generated ones for larger runs.

One answers everything (upgrades, and praises us in a public review), one goes silent, one
raises a ticket and scores 3 on NPS, one churns at renewal, one whose usage dips and then
climbs, one whose champion leaves. Each script sees the journey's status once a simulated day
and acts as that customer would.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from typing import Any

from temporalio.client import Client

from domain.models import AccountUpsert, ContactInput, ContactRole, ContractInput, Segment
from starter.api import escalation_action, send_event
from workflows.customer_event import CustomerEvent
from workflows.escalation import EscalationAction, EscalationActionKind
from workflows.journey_state import JourneyStatus

TEAM = {
    "cs_manager": "morgan.manager@csflow.example",
    "vp_customer_success": "vera.vp@csflow.example",
    "cro": "chris.cro@csflow.example",
}
Script = Callable[["Customer", int, JourneyStatus], Awaitable[None]]


class Customer:
    def __init__(
        self, client: Client, account: AccountUpsert, behaviour: str, script: Script | None
    ) -> None:
        # `script` None: a customer who never acts on anything.
        self.client, self.account, self.behaviour, self.script = client, account, behaviour, script
        self.answered_tokens: set[str] = set()
        self.start = account.contract.start_date if account.contract else date.today()
        self.done: set[str] = set()

    @property
    def id(self) -> str:
        return self.account.id

    async def send(self, type_: str, **payload: Any) -> None:
        await send_event(
            self.client, CustomerEvent(account_id=self.account.id, type=type_, payload=payload)
        )

    async def once(self, step: str, type_: str, **payload: Any) -> None:
        if step not in self.done:
            self.done.add(step)
            await self.send(type_, **payload)

    async def answer_questionnaire(
        self, status: JourneyStatus, reasons_for_purchase: str, intended_use: str, **more: Any
    ) -> None:
        """Answer the requirements questionnaire once, while the journey waits for it."""
        if status.stage == "requirements":
            await self.once(
                "answers",
                "questionnaire_answered",
                reasons_for_purchase=reasons_for_purchase,
                intended_use=intended_use,
                **more,
            )

    async def reach(
        self, milestone: str, active_users: int, licensed_seats: int, **usage: Any
    ) -> None:
        """Report an onboarding milestone once, with the usage at that moment."""
        await self.once(
            milestone,
            "usage_reported",
            milestone=milestone,
            active_users=active_users,
            licensed_seats=licensed_seats,
            **usage,
        )

    async def renew(self, status: JourneyStatus) -> None:
        """Renew for another year, once, when the journey reaches the renewal stage."""
        if status.stage == "renewal" and status.contract_end is not None:
            renewed_until = _next_year(status.contract_end).isoformat()
            await self.once("renew", "contract_renewed", new_end_date=renewed_until)

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
    await c.answer_questionnaire(
        status, "scale CS", "automate renewals", previous_tools=["spreadsheets"]
    )
    if status.stage == "onboarding" and day >= 3:
        await c.reach("first_login", active_users=40, licensed_seats=50, feature_adoption=0.5)
    if status.stage == "onboarding" and day >= 6:
        await c.reach("first_key_action", active_users=45, licensed_seats=50, feature_adoption=0.7)
    await c.answer_surveys(status, nps=9, csat=5)
    for step, on_day, address in (
        ("review", 150, "https://www.g2.example/products/csflow/reviews/acme-corp"),
        # The same review shared again, with tracking: one thread, one playbook.
        ("review-shared", 160, "https://www.g2.example/products/csflow/reviews/acme-corp?utm=li"),
    ):
        if day >= on_day:
            await c.once(
                step,
                "external_activity",
                channel="review_site",
                url=address,
                sentiment="positive",
                author="Alex (Acme Corp)",
                text="Renewals run themselves now.",
            )
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
    await c.renew(status)


async def _unhappy(c: Customer, day: int, status: JourneyStatus) -> None:
    """Onboards, then raises a ticket, scores 3 on NPS, and still renews."""
    await c.answer_questionnaire(status, "replace tool", "onboarding")
    if status.stage == "onboarding":
        await c.reach("first_login", active_users=3, licensed_seats=10)
        if day >= 20:
            await c.reach("first_key_action", active_users=4, licensed_seats=10)
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
    await c.renew(status)


async def _churner(c: Customer, day: int, status: JourneyStatus) -> None:
    """Onboards fine, then cancels when the renewal comes up."""
    await c.answer_questionnaire(status, "try it", "surveys")
    if status.stage == "onboarding":
        await c.reach("first_login", active_users=2, licensed_seats=5)
        await c.reach("first_key_action", active_users=2, licensed_seats=5)
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
    await c.answer_questionnaire(status, "x", "y")
    if status.stage == "onboarding":
        for milestone in ("first_login", "first_key_action"):
            await c.reach(milestone, active_users=users, licensed_seats=seats)


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


# (name, segment, ARR, auto-renews, behaviour, script) of the six demo accounts.
PROFILES: list[tuple[str, Segment, float, bool, str, Script | None]] = [
    ("Acme Corp", Segment.ENTERPRISE, 250_000, False, "answers everything", _engaged),
    # Never answers anything (no script); the contract auto-renews.
    ("Globex", Segment.MID_MARKET, 45_000, True, "goes silent", None),
    ("Initech", Segment.SMB, 12_000, False, "raises a ticket, scores 3 on NPS", _unhappy),
    ("Umbrella", Segment.SMB, 9_000, False, "churns at renewal", _churner),
    ("Hooli", Segment.MID_MARKET, 60_000, True, "usage dips, then climbs", _fluctuating),
    ("Stark", Segment.ENTERPRISE, 400_000, True, "champion leaves", _champion_leaves),
]


def demo_customers(client: Client, start: date, suffix: str, generated: int = 0) -> list[Customer]:
    """The six demo accounts, then `generated` more that cycle through the same behaviours."""
    customers = []
    for index in range(len(PROFILES) + generated):
        name, segment, arr, auto_renew, behaviour, script = PROFILES[index % len(PROFILES)]
        slug = name.split()[0].lower()
        if index >= len(PROFILES):
            name, slug = f"{name} {index // len(PROFILES)}", f"{slug}{index // len(PROFILES)}"
        account = _account(f"{slug}-{suffix}", name, segment, arr, start, auto_renew)
        customers.append(Customer(client, account, behaviour, script))
    return customers
