"""How workflows call activities: by contract name (docs/contracts.md), with shared timeouts.

Activities are referenced by name, so workflows do not import side-effecting code and tests can
register doubles under the same names.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy

T = TypeVar("T")

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


async def call(name: str, arg: Any, result_type: type[T] | None = None) -> T:
    """Run activity `name` with its single input model and decode its result."""
    result: T = await workflow.execute_activity(
        name,
        arg,
        result_type=result_type,
        start_to_close_timeout=timedelta(seconds=60),
        retry_policy=RETRY_POLICY,
    )
    return result
