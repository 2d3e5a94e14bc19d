"""The live half of `make demo`: the six sample accounts' journeys started in real time on the
live stack, and what to open first (the Web UI at one account, the API docs, a survey page)."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

from sqlmodel import col, select
from temporalio.client import Client

from crm.database import Store
from crm.tables import SurveyRow
from domain.process_map import configured_map
from domain.segments import default_config
from starter.api import send_event, start_journey
from starter.demo_customers import TEAM, Customer, demo_customers
from starter.live_stack import LiveStack
from workflows.customer_event import CustomerEvent
from workflows.journey_state import JourneyInput

SURVEY_WAIT = timedelta(seconds=45)


async def start_sample_journeys(client: Client, task_queue: str) -> list[Customer]:
    """The six demo accounts as paying customers from today (the same ids on every run, so a
    second `make demo` finds its journeys again instead of starting new ones)."""
    customers = demo_customers(client, date.today(), suffix="live")
    for customer in customers:
        config = default_config(customer.account.effective_segment)
        if customer.behaviour.startswith("raises a ticket"):
            # Its support playbook asks for CSAT seconds after a ticket closes (a day in
            # production), so the demo has a survey page to open at once.
            config = config.model_copy(update={"playbooks": {"support": {"csat_delay": "PT2S"}}})
        await start_journey(
            client,
            JourneyInput(
                account=customer.account,
                config=config,
                team=TEAM,
                process_map=configured_map(),
            ),
            CustomerEvent(account_id=customer.account.id, type="payment_received"),
            task_queue=task_queue,
        )
    return customers


async def survey_link(client: Client, stack: LiveStack, customers: list[Customer]) -> str | None:
    """Open and resolve a support ticket for the unhappy customer: the page of the CSAT survey
    its support playbook creates (read from the CRM: the invitation email itself may wait for
    the contact governor's frequency cap)."""
    customer = next(c for c in customers if c.behaviour.startswith("raises a ticket"))
    for event_type, payload in (
        ("ticket_opened", {"ticket_id": "SUP-1", "subject": "Nightly sync fails"}),
        ("ticket_resolved", {"ticket_id": "SUP-1"}),
    ):
        await send_event(
            client, CustomerEvent(account_id=customer.id, type=event_type, payload=payload)
        )
    store = Store(stack.database_url)
    try:
        deadline = asyncio.get_running_loop().time() + SURVEY_WAIT.total_seconds()
        while asyncio.get_running_loop().time() < deadline:
            token = await asyncio.to_thread(_latest_csat_token, store, customer.id)
            if token is not None:
                return f"{stack.api_url}/s/{token}"
            await asyncio.sleep(0.5)
        return None
    finally:
        store.dispose()


def _latest_csat_token(store: Store, account_id: str) -> str | None:
    with store.session() as session:
        row = session.exec(
            select(SurveyRow)
            .where(SurveyRow.account_id == account_id, SurveyRow.kind == "csat")
            .order_by(col(SurveyRow.id).desc())
        ).first()
        return row.token if row is not None else None
