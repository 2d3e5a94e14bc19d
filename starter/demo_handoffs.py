"""The other functions in the demo year: Sales, Finance, Support, Services, Marketing and Product
people work the handoffs the process map gives them, each at their own pace, through the same
task API the CLI, the HTTP API and the console use. Services is slow for one account, so the
year shows an overdue handoff escalated to its lead."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import col, select
from temporalio.client import Client

from crm.database import Store
from crm.tables import HandoffRow
from domain.handoffs import HandoffState
from starter.process_map_commands import account_handoffs
from starter.task_api import complete_task

# Function name -> (who does the work, days they take after the handoff reaches them).
PEOPLE: dict[str, tuple[str, int]] = {
    "Finance": ("fiona.finance@csflow.example", 1),
    "Sales": ("sam.sales@csflow.example", 1),
    "Customer Success": ("casey.csm@csflow.example", 2),
    "Support": ("sue.support@csflow.example", 6),
    "Services": ("sid.services@csflow.example", 3),
    "Marketing": ("mia.marketing@csflow.example", 5),
    "Product": ("pat.product@csflow.example", 12),
}
# Services takes this long for the slow account: its 5-day obstacle review runs late.
SLOW_SERVICES_DAYS = 9
EVIDENCE = {
    "Finance": "set up in the billing system; invoice schedule attached",
    "Sales": "deal notes and stakeholder map shared with the CSM",
    "Customer Success": "done with the customer's champion",
    "Support": "session held; recording and notes in the shared folder",
    "Services": "obstacle list with owners and dates in the shared folder",
    "Marketing": "write-up shared with Sales and the CSM",
    "Product": "requests logged in the roadmap board",
}


@dataclass
class HandoffDesk:
    client: Client
    store: Store
    slow_account: str | None = None
    completed: Counter[str] = field(default_factory=Counter)

    async def work(self, now: datetime) -> None:
        """Complete every open handoff whose owner has had their time with it by `now`."""
        with self.store.session() as session:
            rows = session.exec(
                select(HandoffRow).where(
                    col(HandoffRow.state).in_([HandoffState.OPEN, HandoffState.OVERDUE]),
                    col(HandoffRow.task_id).is_not(None),
                )
            ).all()
        for row in rows:
            person, days = PEOPLE.get(row.function, ("cs-team@csflow.example", 3))
            if row.function == "Services" and row.account_id == self.slow_account:
                days = SLOW_SERVICES_DAYS
            # Day by day, as people work: a 1-day handoff opened today is done tomorrow.
            if row.opened_at is None or (now.date() - row.opened_at.date()).days < days:
                continue
            assert row.task_id is not None
            evidence = EVIDENCE.get(row.function, "done")
            await complete_task(
                self.client, row.task_id, evidence, by=person, via="demo", store=self.store
            )
            self.completed[row.function] += 1


def handoff_lines(store: Store, account_id: str) -> list[str]:
    """The account's handoffs in a line per function: done, open, late and escalated."""
    with store.session() as session:
        _, rows = account_handoffs(session, account_id)
    by_function: dict[str, Counter[str]] = {}
    for row in sorted(rows, key=lambda r: r.due_at or r.updated_at):
        counts = by_function.setdefault(row.function, Counter())
        counts[row.state] += 1
        if row.escalated_at is not None:
            counts["escalated"] += 1
    lines = []
    for function, counts in by_function.items():
        parts = [f"{counts[HandoffState.DONE]} done"]
        for state, words in (
            (HandoffState.OPEN, "open"),
            (HandoffState.OVERDUE, "overdue"),
            (HandoffState.BLOCKED, "blocked"),
            (HandoffState.WAITING, "to come"),
        ):
            if counts[state]:
                parts.append(f"{counts[state]} {words}")
        if counts["escalated"]:
            parts.append(f"{counts['escalated']} escalated to the lead for lateness")
        lines.append(f"{function}: {', '.join(parts)}")
    return lines
