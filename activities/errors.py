"""The contract's failure types (docs/contracts.md): permanent ones are non-retryable.

Every activity runs its work through `activities.context.in_thread`, which turns failures that
retrying cannot fix into the contract's non-retryable `InvalidInput` (see `as_permanent`): data
the code or the database refuses (`ValueError` and its kin, pydantic validation errors, a
database `DataError`, an overflowing date). Anything else (a lost connection, a locked database,
a timeout) stays retryable. Workflows skip a step that failed for good and give a human a task.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy.exc import DataError
from temporalio.exceptions import ApplicationError

from domain.input_checks import describe_errors

INVALID_INPUT = "InvalidInput"
UNKNOWN_ACCOUNT = "UnknownAccount"
INVALID_EMAIL_ADDRESS = "InvalidEmailAddress"
SCORE_OUT_OF_RANGE = "ScoreOutOfRange"
UNKNOWN_SURVEY_TOKEN = "UnknownSurveyToken"
EMAIL_PROVIDER_REJECTED = "EmailProviderRejected"
EMAIL_PROVIDER_UNAVAILABLE = "EmailProviderUnavailable"


def permanent(error_type: str, message: str, *details: Any) -> ApplicationError:
    """A failure that retrying cannot fix."""
    return ApplicationError(message, *details, type=error_type, non_retryable=True)


def unavailable(message: str, retry_after: timedelta | None = None) -> ApplicationError:
    """A transient email-provider failure; Temporal retries, after `retry_after` when given."""
    return ApplicationError(message, type=EMAIL_PROVIDER_UNAVAILABLE, next_retry_delay=retry_after)


def as_permanent(error: BaseException) -> ApplicationError | None:
    """The non-retryable `InvalidInput` for a failure that no retry can fix; None otherwise.

    Data errors are deterministic: the same input fails the same way on every attempt, so
    retrying would only hold the workflow up forever."""
    if isinstance(error, ApplicationError):
        return None
    if isinstance(error, ValidationError):
        return permanent(INVALID_INPUT, describe_errors(error)[:1000])
    if isinstance(error, DataError):
        return permanent(INVALID_INPUT, f"the database refused the data: {error.orig}"[:1000])
    if isinstance(error, (ValueError, TypeError, ArithmeticError)):
        return permanent(INVALID_INPUT, f"{type(error).__name__}: {error}"[:1000])
    return None
