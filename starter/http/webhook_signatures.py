"""What the signed webhooks (SendGrid's Event Webhook, the support desk) share: the two ways a
signature check fails, and the HTTP answer to each."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from fastapi import HTTPException
from structlog.typing import FilteringBoundLogger

from starter.http.api_responses import Responses, error


class SignatureMissing(Exception):
    """A signature header is absent (HTTP 401)."""


class SignatureRejected(Exception):
    """Malformed, stale, not matching the body, or no key to check it with (HTTP 403)."""


@contextmanager
def signature_checked(log: FilteringBoundLogger, source: str) -> Iterator[None]:
    """Answer a failed check with 401 (missing) or 403 (rejected, logged as `source`'s)."""
    try:
        yield
    except SignatureMissing as exc:
        raise HTTPException(401, str(exc)) from exc
    except SignatureRejected as exc:
        log.warning(f"{source} signature rejected", reason=str(exc))
        raise HTTPException(403, f"signature rejected: {exc}") from exc


def signature_errors(signature_header: str, timestamp_header: str) -> Responses:
    """The OpenAPI description of `signature_checked`'s answers, for a webhook signed in these
    headers."""
    return {
        401: error(f"{signature_header} or {timestamp_header} missing"),
        403: error(
            "signature malformed, stale or not matching the body, or no key or secret configured "
            "to check it with; nothing was processed"
        ),
    }
