"""An account part-way through the shipped process map, as the process-map workflow leaves the
CRM's `handoffs` table: some milestones done, one overdue and escalated, one blocked, one open,
some waiting, and the contract's milestones without a row yet. Its dates lie ahead of the wall
clock, as the demo's simulated year does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from activities.crm import CrmActivities
from crm.database import Store
from crm.tables import HandoffRow
from domain.handoffs import HandoffState
from domain.models import AccountUpsert
from domain.process_map import ProcessMap

ACCOUNT = "acme"
ACCOUNT_NAME = "Acme Corp"
PAID_AT = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)
TODAY = PAID_AT + timedelta(days=95)  # the latest change: 12 Apr 2030
CSM = "casey@csflow.example"

# milestone id -> (state, starts, due, other fields); days after the payment. Onboarding
# started 20 days after it and adoption 40 days after it (not the typical 14 and 60).
SEEDED: dict[str, tuple[HandoffState, int, int, dict[str, Any]]] = {
    "billing_setup": (HandoffState.DONE, 0, 2, {"done": 1, "by": "fiona.finance@csflow.example"}),
    "sales_handover": (HandoffState.DONE, 0, 3, {"done": 2, "by": "sam.sales@csflow.example"}),
    "kickoff_scheduled": (HandoffState.DONE, 20, 25, {"done": 22, "by": CSM}),
    "key_user_training": (HandoffState.OVERDUE, 27, 41, {"opened": 27, "escalated": 42}),
    "obstacle_review": (HandoffState.DONE, 34, 39, {"done": 38, "by": "sid@csflow.example"}),
    "community_invitation": (
        HandoffState.BLOCKED,
        70,
        84,
        {"blocker": "waiting for Support to finish Key users trained"},
    ),
    # Opened on day 90, its task reminded on day 95: the latest change.
    "support_review": (HandoffState.OPEN, 90, 104, {"opened": 90, "task": 7, "updated": 95}),
    "value_documented": (HandoffState.WAITING, 182, 196, {}),
    "case_study_ask": (HandoffState.WAITING, 196, 210, {}),
    "roadmap_input": (HandoffState.WAITING, 300, 330, {}),
}


def day(days: float) -> datetime:
    return PAID_AT + timedelta(days=days)


def seed_account(store: Store) -> None:
    CrmActivities(store)._upsert(
        AccountUpsert(id=ACCOUNT, name=ACCOUNT_NAME, arr=50_000, csm_owner=CSM, contacts=[])
    )


def seed_handoffs(store: Store, process_map: ProcessMap) -> None:
    """The account and its handoff rows (SEEDED), written as the workflow writes them."""
    seed_account(store)
    with store.session() as session:
        for milestone_id, (state, starts, due, more) in SEEDED.items():
            milestone = process_map.milestone(milestone_id)
            function = process_map.function(milestone.function)
            done, opened = more.get("done"), more.get("opened", more.get("done"))
            # Waiting rows were written at the payment; the others at their latest change.
            moments = (done, opened, more.get("escalated"), more.get("updated"))
            changed = max([starts if state == HandoffState.BLOCKED else 0, *filter(None, moments)])
            session.add(
                HandoffRow(
                    account_id=ACCOUNT,
                    key=f"{ACCOUNT}:{milestone_id}:0",
                    milestone_id=milestone_id,
                    cycle=0,
                    function=function.name,
                    title=milestone.title,
                    owner=function.owner or "",
                    map_version=process_map.label,
                    state=state.value,
                    starts_at=day(starts),
                    due_at=day(due),
                    opened_at=day(opened) if opened is not None else None,
                    done_at=day(done) if done is not None else None,
                    done_by=more.get("by"),
                    evidence="notes in the shared folder" if done is not None else None,
                    escalated_at=day(more["escalated"]) if "escalated" in more else None,
                    blocker=more.get("blocker"),
                    task_id=more.get("task"),
                    workflow_id=f"process-map-{ACCOUNT}",
                    updated_at=day(changed),
                )
            )
