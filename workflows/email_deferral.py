"""The contact governor's deferral loop (docs/contracts.md, "Email deferral protocol").

`send_email` / `send_kickoff_invite` may answer `deferred` with `not_before`: the workflow sleeps
until then and asks again with the same idempotency key, so the email goes out exactly once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.models import EmailReceipt, EmailRequest, EmailStatus, KickoffInvite
    from workflows.activity_calls import call

Governed = TypeVar("Governed", EmailRequest, KickoffInvite)


async def send_governed(
    activity: Callable[[Any, Governed], Awaitable[EmailReceipt]], request: Governed
) -> EmailReceipt:
    """Run `activity` until the governor lets the email out (or suppresses it)."""
    receipt = await call(activity, _at_now(request))
    while receipt.status == EmailStatus.DEFERRED:
        if receipt.not_before is None:
            workflow.logger.warning("deferred email without not_before: %s", receipt)
            return receipt
        wait = receipt.not_before - workflow.now()
        workflow.logger.info("email %s deferred for %s", request.idempotency_key, wait)
        await workflow.sleep(max(wait, timedelta(0)))
        receipt = await call(activity, _at_now(request))
    return receipt


def _at_now(request: Governed) -> Governed:
    # Passing `now` opts the email into quiet hours and the frequency cap, judged in workflow time.
    return request.model_copy(update={"now": workflow.now()})
