"""The contract's failure types (docs/contracts.md): permanent ones are non-retryable."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio.exceptions import ApplicationError

INVALID_INPUT = "InvalidInput"
UNKNOWN_ACCOUNT = "UnknownAccount"
INVALID_EMAIL_ADDRESS = "InvalidEmailAddress"
CONTACT_OPTED_OUT = "ContactOptedOut"
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
