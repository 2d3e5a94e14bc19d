"""The journey's input and state, shared by the parts of the journey (stages, events, health,
playbooks, escalations), with what all of them do: note on the timeline, label the workflows
they start for the account, and describe a customer event."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.input_checks import one_line
    from domain.models import AccountUpsert, ContractInput
    from workflows import search_attributes as sa
    from workflows.actions import CsActions
    from workflows.contract_dates import contract_end_at, renewal_start
    from workflows.customer_event import CustomerEvent
    from workflows.journey_state import TIMELINE_LIMIT, JourneyInput, JourneyState, TimelineEntry
    from workflows.playbooks.spec import Trigger


class JourneyContext:
    def __init__(self, input: JourneyInput, state: JourneyState) -> None:
        self.input = input
        self.state = state
        # The work log grew: the silence check runs between customer events.
        self.work_logged = False
        # What the next stage waits for (a handoff, a reachable contact), for the status query.
        self.waiting_for: str | None = None

    @contextmanager
    def waiting(self, what: str) -> Iterator[None]:
        """The journey waits for `what` until the block ends (the status query says so)."""
        self.waiting_for = what
        try:
            yield
        finally:
            self.waiting_for = None

    @property
    def account(self) -> AccountUpsert:
        return self.input.account

    @property
    def segment(self) -> str:
        """The dynamic segment once health has set one, else the configured ARR segment."""
        return self.state.segment_key or self.input.config.segment.value

    def work(self, contact_id: str = "") -> CsActions:
        """The CS actions the journey takes for its account, logged in its state; customer
        emails go to `contact_id`, tasks and alerts to the account's CSM."""
        return CsActions(self.account.id, self.account.csm_owner, contact_id, log=self.state.log)

    def note(self, kind: str, summary: str) -> None:
        timeline = self.state.timeline
        timeline.append(TimelineEntry(at=workflow.now(), kind=kind, summary=summary))
        del timeline[:-TIMELINE_LIMIT]

    def family(self, what: str) -> sa.ChildLabels:
        """Search attributes and Web UI summary of a workflow started for this account."""
        account = self.account
        return sa.child_labels(
            account.id, account.name, account.csm_owner, self.segment, self.state.stage.value, what
        )

    def trigger(
        self,
        event: CustomerEvent | None = None,
        payload: object = None,
        before: AccountUpsert | None = None,
    ) -> Trigger:
        return Trigger(
            journey=self.input,
            state=self.state,
            journey_id=workflow.info().workflow_id,
            now=workflow.now(),
            event=event,
            payload=payload,
            account_before=before,
        )

    def set_contract(self, contract: ContractInput) -> None:
        # The end date first: a contract the journey cannot schedule changes nothing.
        self.set_contract_end(contract.end_date)
        self.state.contract_value = contract.value
        self.state.auto_renew = contract.auto_renew

    def set_contract_end(self, end: date) -> None:
        # Computed before any state changes, so a date it cannot handle leaves the state intact.
        starts_at = renewal_start(end, self.input.config.renewal.lead_time)
        ends_at = contract_end_at(end)
        self.state.contract_end = end
        self.state.renewal_starts_at = starts_at
        workflow.upsert_search_attributes([sa.RENEWAL_DATE.value_set(ends_at)])

    @staticmethod
    def describe(event: CustomerEvent) -> str:
        details = ", ".join(f"{k}={v}" for k, v in sorted(event.payload.items()))
        return f"{event.type}" + (f" ({details})" if details else "")


def for_crm(account: AccountUpsert) -> AccountUpsert:
    """The account as the CRM activity accepts it: names and plan one clean line each (an account
    recorded before the input checks existed may hold control characters in them)."""
    contacts = [
        c.model_copy(update={"name": one_line(c.name, 200) or c.id}) for c in account.contacts
    ]
    return account.model_copy(
        update={
            "name": one_line(account.name, 200) or account.id,
            "plan": one_line(account.plan, 64) or "standard",
            "contacts": contacts,
        }
    )
