"""A playbook's spec: everything the journey and the worker need to know about it, in one value.

Each module in `workflows/playbooks/` defines its workflow and exports one `SPEC`; the registry
lists them. The journey asks every spec whose triggers match what just happened whether it
opens (its `opens_on` condition returns an `Opening` or None), and forwards later events to the
open ones.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.models import AccountUpsert, ContactRole
    from workflows.customer_event import CustomerEvent, CustomerEventType
    from workflows.journey_state import JourneyInput, JourneyState
    from workflows.playbooks.base import PlaybookContext, PlaybookPolicy

P = TypeVar("P", bound=PlaybookPolicy)


class JourneyMoment(StrEnum):
    """Triggers that are not customer events: moments in the journey's own life."""

    # The journey's periodic NPS survey went out (payload: the SurveyRequestResult).
    NPS_SENT = "nps_sent"
    # The journey's work log grew (emails, tasks): the silence check runs.
    WORK_LOGGED = "work_logged"


@dataclass
class Trigger:
    """What a playbook may look at to decide whether it opens (read-only but for the
    playbook's own bookkeeping fields in the state)."""

    journey: JourneyInput  # the account as it is now, its config, team and sales owner
    state: JourneyState
    journey_id: str
    now: datetime
    event: CustomerEvent | None = None
    # The event's typed payload, or the moment's own data.
    payload: Any = None
    # The account before this event was applied (a champion change compares the two).
    account_before: AccountUpsert | None = None

    def context(self, contact_id: str | None = None) -> PlaybookContext:
        """The playbook's context; it talks to the champion unless told otherwise."""
        journey = self.journey
        return PlaybookContext(
            account_id=journey.account.id,
            journey_id=self.journey_id,
            csm_owner=journey.account.csm_owner,
            contact_id=(
                contact_id if contact_id is not None else journey.contact_for(ContactRole.CHAMPION)
            ),
            task_priority=journey.config.csm_task_priority,
        )


@dataclass(frozen=True)
class Opening:
    """A situation that opens the playbook: its key (one playbook per situation, ever), a line
    for people, and the workflow's input."""

    situation: str
    summary: str
    input: BaseModel


@dataclass(frozen=True)
class Opener(Generic[P]):
    """A playbook's condition: given what just happened, the opening it calls for, if any."""

    triggers: frozenset[CustomerEventType | JourneyMoment]
    decide: Callable[[Trigger, P], Opening | None]

    def __call__(self, trigger: Trigger, policy: P) -> Opening | None:
        return self.decide(trigger, policy)


def opens_on(
    *triggers: CustomerEventType | JourneyMoment,
) -> Callable[[Callable[[Trigger, P], Opening | None]], Opener[P]]:
    """Declare the events or journey moments a playbook's condition listens to."""

    def declare(decide: Callable[[Trigger, P], Opening | None]) -> Opener[P]:
        return Opener(frozenset(triggers), decide)

    return declare


def _every_open_one(situation: str, payload: Any) -> bool:
    return True


@dataclass(frozen=True)
class Receives:
    """What an open playbook hears about after it started: customer events (those of its
    situation, by `wants`) and the survey answers the journey records."""

    events: frozenset[CustomerEventType] = frozenset()
    survey_outcomes: bool = False
    wants: Callable[[str, Any], bool] = _every_open_one


NOTHING = Receives()


@dataclass(frozen=True)
class PlaybookSpec(Generic[P]):
    name: str  # registry key, in workflow ids and in per-segment configuration
    title: str  # for people: the Web UI summary and reports
    workflow: type[Any]  # has a `run` method: the worker registers it, the journey starts it
    policy: type[P]
    opens: Opener[P]
    receives: Receives = NOTHING

    @property
    def triggers(self) -> frozenset[CustomerEventType | JourneyMoment]:
        return self.opens.triggers

    def templates(self) -> list[str]:
        """The email templates it sends by default (its policy's `*_template` fields)."""
        fields = self.policy.model_fields
        return [str(f.default) for name, f in fields.items() if name.endswith("_template")]

    def policy_for(self, journey: JourneyInput) -> P:
        """This playbook's policy for the journey's segment, with the segment's overrides."""
        config = journey.config
        overrides = config.playbooks.get(self.name, {})
        return self.policy.model_validate(
            {**self.policy.segment_defaults(config.segment), **overrides}
        )
