"""How a stage or playbook workflow reads the customer events the journey forwards to it: the
typed payload of the kind it waits for; anything else, or anything unreadable, is ignored."""

from __future__ import annotations

from typing import TypeVar

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows.customer_event import CustomerEvent, InvalidCustomerEvent

P = TypeVar("P")


def payload_of(event: CustomerEvent, kind: type[P]) -> P | None:
    """`event`'s payload when it is a `kind`, else None (an unreadable event is logged)."""
    try:
        payload = event.parse(accepted=True)
    except InvalidCustomerEvent as exc:
        workflow.logger.warning("ignoring customer event: %s", exc)
        return None
    return payload if isinstance(payload, kind) else None
