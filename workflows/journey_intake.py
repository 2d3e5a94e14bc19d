"""The journey's event queue: events are applied one at a time, in arrival order; a re-sent
event id is ignored; callers of the update get an acknowledgement; an event that cannot be
applied is rejected (noted, the CSM alerted) and the journey goes on with the next."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from temporalio import workflow
from temporalio.exceptions import TemporalError

with workflow.unsafe.imports_passed_through():
    from domain.input_checks import one_line
    from domain.models import AlertSeverity
    from workflows.customer_event import CustomerEvent, EventAck, InvalidCustomerEvent
    from workflows.journey_context import JourneyContext
    from workflows.journey_stages import Handover
    from workflows.journey_state import SEEN_EVENT_IDS_LIMIT

# Acknowledgements nobody collected (signals have no waiter) are dropped after this many events.
_ACKS_KEPT = 1000


class EventIntake:
    def __init__(self, journey: JourneyContext) -> None:
        self._journey = journey
        self.processing = False
        self.this_run = 0  # events applied in this run (continue-as-new counts them)
        self._processed = 0
        self._acks: dict[int, EventAck] = {}

    def enqueue(self, event: CustomerEvent) -> int | None:
        """Queue an event; its number, or None when its event_id was seen before (a re-send)."""
        state = self._journey.state
        if event.event_id is not None:
            if event.event_id in state.seen_event_ids:
                return None
            state.seen_event_ids = [*state.seen_event_ids, event.event_id][-SEEN_EVENT_IDS_LIMIT:]
        state.pending.append(event)
        return self._processed + len(state.pending)

    def duplicate_ack(self, event: CustomerEvent) -> EventAck:
        state = self._journey.state
        return EventAck(
            account_id=event.account_id,
            event_type=event.event_type,
            sequence=state.sequence,
            duplicate=True,
            stage=state.stage.value,
        )

    async def ack(self, number: int) -> EventAck:
        await workflow.wait_condition(lambda: number in self._acks)
        return self._acks.pop(number)

    async def run(
        self,
        apply: Callable[[CustomerEvent], Awaitable[Handover]],
        may_start: Callable[[], bool],
    ) -> None:
        """Apply queued events for as long as the journey runs."""
        state = self._journey.state
        while True:
            await workflow.wait_condition(lambda: bool(state.pending) and may_start())
            event = state.pending[0]
            self.processing = True
            went = Handover()
            rejected: str | None = None
            try:
                went = await apply(event)
            except Exception as exc:
                rejected = await self._reject(event, exc)
            finally:
                state.pending.pop(0)
                self.processing = False
            state.sequence += 1
            self.this_run += 1
            self._processed += 1
            try:
                event_type = event.event_type
            except InvalidCustomerEvent:
                continue  # an unknown type arrives by signal only: no caller waits for an ack
            self._acks[self._processed] = EventAck(
                account_id=event.account_id,
                event_type=event_type,
                sequence=state.sequence,
                stage=state.stage.value,
                forwarded_to=went.handed_to,
                kept_for=went.kept_for,
                rejected=rejected,
            )
            for stale in [k for k in self._acks if k < self._processed - _ACKS_KEPT]:
                del self._acks[stale]

    async def _reject(self, event: CustomerEvent, exc: BaseException) -> str:
        """Record an event the journey could not apply and tell the CSM, once per event."""
        journey, state = self._journey, self._journey.state
        reason = failure_reason(exc)
        kind = one_line(event.type, 64)
        workflow.logger.warning("customer event %s rejected: %s", event.type, reason)
        journey.note("rejected_event", f"{kind}: {reason}")
        state.events_rejected += 1
        account = journey.account
        try:
            await journey.work().alert(
                f"Customer event not applied: {kind}",
                f"rejected-event:{state.sequence + 1}",
                message=f"The journey of {account.name} could not apply a {kind} "
                f"event{f' ({one_line(event.event_id, 128)})' if event.event_id else ''} "
                f"and went on without it.\n\nReason: {reason}\n\n"
                f"Event: {one_line(journey.describe(event), 1500)}",
                severity=AlertSeverity.WARNING,
            )
        except TemporalError as alert_failure:
            workflow.logger.warning("rejection alert failed: %s", alert_failure)
            journey.note("alert_failed", f"rejected {kind}: {alert_failure}")
        return reason


def failure_reason(exc: BaseException) -> str:
    """One line saying why: the activity's or child's own failure, else the exception."""
    cause = getattr(exc, "cause", None)
    if isinstance(exc, TemporalError) and cause is not None:
        exc = cause
    if isinstance(exc, (TemporalError, InvalidCustomerEvent)):
        text = str(exc)
    else:
        text = f"{type(exc).__name__}: {exc}"
    return one_line(text, 500)
