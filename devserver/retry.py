"""Retry decisions for activities and workflows, following Temporal's retry policy semantics."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from temporalio.api.common.v1 import message_pb2 as common_pb
from temporalio.api.enums.v1 import RetryState, TimeoutType
from temporalio.api.failure.v1 import message_pb2 as failure_pb

DEFAULT_INITIAL_INTERVAL = timedelta(seconds=1)
DEFAULT_BACKOFF = 2.0
# Temporal's default maximum interval is 100 times the initial interval.
DEFAULT_MAX_INTERVAL_FACTOR = 100


def normalized_retry_policy(policy: common_pb.RetryPolicy | None) -> common_pb.RetryPolicy:
    """The policy with Temporal's defaults filled in, as stored in history."""
    result = common_pb.RetryPolicy()
    if policy is not None:
        result.CopyFrom(policy)
    if result.initial_interval.ToTimedelta() <= timedelta(0):
        result.initial_interval.FromTimedelta(DEFAULT_INITIAL_INTERVAL)
    if result.backoff_coefficient < 1.0:
        result.backoff_coefficient = DEFAULT_BACKOFF
    if result.maximum_interval.ToTimedelta() <= timedelta(0):
        result.maximum_interval.FromTimedelta(
            result.initial_interval.ToTimedelta() * DEFAULT_MAX_INTERVAL_FACTOR
        )
    return result


def validate_retry_policy(policy: common_pb.RetryPolicy, field: str) -> str | None:
    """A message naming what is wrong with a caller-supplied policy, or None."""
    if policy.initial_interval.ToTimedelta() < timedelta(0):
        return f"{field}.initial_interval cannot be negative."
    if policy.backoff_coefficient and policy.backoff_coefficient < 1:
        return f"{field}.backoff_coefficient cannot be less than 1."
    if policy.maximum_attempts < 0:
        return f"{field}.maximum_attempts cannot be negative."
    max_interval = policy.maximum_interval.ToTimedelta()
    if max_interval < timedelta(0):
        return f"{field}.maximum_interval cannot be negative."
    if max_interval and max_interval < policy.initial_interval.ToTimedelta():
        return f"{field}.maximum_interval cannot be less than its initial_interval."
    return None


@dataclass(frozen=True)
class RetryDecision:
    retry_state: int
    delay: timedelta | None = None  # set when the attempt should be retried after this delay

    @property
    def retry(self) -> bool:
        return self.delay is not None


def _is_retryable(failure: failure_pb.Failure, policy: common_pb.RetryPolicy) -> bool:
    if failure.HasField("application_failure_info"):
        info = failure.application_failure_info
        if info.non_retryable or info.type in policy.non_retryable_error_types:
            return False
    if failure.HasField("timeout_failure_info"):
        # Only per-attempt timeouts are worth another attempt.
        return failure.timeout_failure_info.timeout_type in (
            TimeoutType.TIMEOUT_TYPE_START_TO_CLOSE,
            TimeoutType.TIMEOUT_TYPE_HEARTBEAT,
        )
    if failure.HasField("canceled_failure_info") or failure.HasField("terminated_failure_info"):
        return False
    return True


def decide_retry(
    policy: common_pb.RetryPolicy | None,
    attempt: int,
    failure: failure_pb.Failure,
    now: datetime,
    expiration: datetime | None,
) -> RetryDecision:
    """Whether attempt `attempt`, which ended in `failure`, gets another try, and when."""
    if policy is None:
        return RetryDecision(RetryState.RETRY_STATE_RETRY_POLICY_NOT_SET)
    if not _is_retryable(failure, policy):
        return RetryDecision(RetryState.RETRY_STATE_NON_RETRYABLE_FAILURE)
    if policy.maximum_attempts > 0 and attempt >= policy.maximum_attempts:
        return RetryDecision(RetryState.RETRY_STATE_MAXIMUM_ATTEMPTS_REACHED)
    delay: timedelta | None = None
    if failure.HasField("application_failure_info"):
        explicit = failure.application_failure_info.next_retry_delay.ToTimedelta()
        if explicit > timedelta(0):
            delay = explicit
    if delay is None:
        initial = policy.initial_interval.ToTimedelta()
        delay = initial * (policy.backoff_coefficient ** (attempt - 1))
        maximum = policy.maximum_interval.ToTimedelta()
        if maximum > timedelta(0):
            delay = min(delay, maximum)
    if expiration is not None and now + delay >= expiration:
        return RetryDecision(RetryState.RETRY_STATE_TIMEOUT)
    return RetryDecision(RetryState.RETRY_STATE_IN_PROGRESS, delay)
