"""How workflows call activities: by reference to the activity method (so mypy checks the
argument and the result), with timeouts sized to the work (seconds for CRM calls, heartbeats for
email sends and segment scans).

Temporal schedules an activity by its name (the method's name, the contract of
docs/contracts.md), so tests still register doubles under the same names.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy

A = TypeVar("A")
R = TypeVar("R")

# Bad input never gets better by retrying; everything else (429/5xx/timeouts) does.
NON_RETRYABLE = [
    "InvalidInput",
    "UnknownAccount",
    "InvalidEmailAddress",
    "ContactOptedOut",
    "ScoreOutOfRange",
    "UnknownSurveyToken",
    "EmailProviderRejected",
]

RETRY_POLICY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=5),
    non_retryable_error_types=NON_RETRYABLE,
)


@dataclass(frozen=True)
class Timeouts:
    """How long one attempt of an activity may take, and how soon a silent one is given up."""

    start_to_close: timedelta
    # Set for activities that heartbeat while they work (activities.context.in_thread): a worker
    # that dies mid-attempt is noticed after this, not after the whole start-to-close.
    heartbeat: timedelta | None = None


# CRM reads and writes take milliseconds; an attempt may wait out one SQLite lock (10 s).
CRM_CALL = Timeouts(start_to_close=timedelta(seconds=15))
# Emails call the provider (SendGrid's HTTP timeout is 10 s) between two ledger transactions.
# The attempt heartbeats while it works: a dead worker is noticed within 10 s, while a slow
# provider gets the generous start-to-close (an abandoned attempt's thread cannot be stopped and
# could still deliver, so that must not happen to a live one).
EMAIL_CALL = Timeouts(start_to_close=timedelta(minutes=2), heartbeat=timedelta(seconds=10))
# Reads every account of a segment: long for a large CRM, heartbeating throughout.
SCAN_CALL = Timeouts(start_to_close=timedelta(minutes=10), heartbeat=timedelta(seconds=30))

TIMEOUTS: dict[str, Timeouts] = {
    "send_email": EMAIL_CALL,
    "send_kickoff_invite": EMAIL_CALL,
    "alert_csm": EMAIL_CALL,  # a task and an email to the CSM
    "list_segment_accounts": SCAN_CALL,
}


def timeouts_for(name: str) -> Timeouts:
    """The timeouts of activity `name`: CRM_CALL unless listed in TIMEOUTS."""
    return TIMEOUTS.get(name, CRM_CALL)


async def call(activity: Callable[[Any, A], Awaitable[R]], arg: A) -> R:
    """Run `activity` (a method of an activity class) with its single input model."""
    timeouts = timeouts_for(activity.__name__)
    return await workflow.execute_activity_method(
        activity,
        arg,
        start_to_close_timeout=timeouts.start_to_close,
        heartbeat_timeout=timeouts.heartbeat,
        retry_policy=RETRY_POLICY,
    )
