"""Every side effect of csflow, as Temporal activities (names fixed by docs/contracts.md).

Each module holds one class whose constructor takes what its activities need (the CRM store,
the settings, the email provider, the clock) and whose `@activity.defn` methods are the
activities. `Activities.build` wires them (tests use the instances), `build_activities` returns
the bound methods a worker registers.

Activities are `async` and run their blocking database / HTTP work in threads, so the worker
needs no activity executor.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from activities.alerts import AlertActivities
from activities.calendar import CalendarActivities
from activities.clock import Clock, system_clock
from activities.crm import CrmActivities
from activities.delivery import EmailProvider
from activities.email import EmailActivities
from activities.handoffs import HandoffActivities
from activities.health import HealthActivities
from activities.segment_directory import SegmentDirectoryActivities
from activities.surveys import SurveyActivities
from crm.database import Store
from domain.settings import Settings


@dataclass(frozen=True)
class Activities:
    """Every activity class, wired together (alerts and invites send through `email`)."""

    crm: CrmActivities
    email: EmailActivities
    surveys: SurveyActivities
    alerts: AlertActivities
    calendar: CalendarActivities
    health: HealthActivities
    segments: SegmentDirectoryActivities
    handoffs: HandoffActivities

    @classmethod
    def build(
        cls,
        settings: Settings,
        store: Store | None = None,
        *,
        provider: EmailProvider | None = None,
        clock: Clock = system_clock,
    ) -> Activities:
        """On `store` (default: one at `DATABASE_URL`), sending through `provider` (default:
        SendGrid or the outbox, as the settings say), at `clock`'s time."""
        store = store if store is not None else Store(settings.database_url)
        crm = CrmActivities(store)
        email = EmailActivities(store, settings, provider, clock)
        return cls(
            crm=crm,
            email=email,
            surveys=SurveyActivities(store, settings),
            alerts=AlertActivities(crm, email),
            calendar=CalendarActivities(store, email),
            health=HealthActivities(store, settings, clock),
            segments=SegmentDirectoryActivities(store),
            handoffs=HandoffActivities(store),
        )

    def all(self) -> list[Callable[..., Any]]:
        """The bound `@activity.defn` methods, for a worker."""
        return [
            self.crm.upsert_account,
            self.crm.get_account,
            self.crm.set_lifecycle_stage,
            self.crm.append_touchpoint,
            self.crm.create_csm_task,
            self.crm.complete_csm_task,
            self.crm.record_requirements,
            self.crm.record_contract_outcome,
            self.email.send_email,
            self.surveys.create_survey,
            self.surveys.record_survey_response,
            self.alerts.alert_csm,
            self.calendar.send_kickoff_invite,
            self.health.compute_health_score,
            self.health.explain_health,
            self.segments.list_segment_accounts,
            self.handoffs.record_handoff,
        ]


def build_activities(
    settings: Settings,
    store: Store | None = None,
    *,
    provider: EmailProvider | None = None,
    clock: Clock = system_clock,
) -> list[Callable[..., Any]]:
    """What the worker registers: `Activities.build(...).all()`."""
    return Activities.build(settings, store, provider=provider, clock=clock).all()


__all__ = [
    "Activities",
    "AlertActivities",
    "CalendarActivities",
    "CrmActivities",
    "EmailActivities",
    "HandoffActivities",
    "HealthActivities",
    "SegmentDirectoryActivities",
    "SurveyActivities",
    "build_activities",
]
