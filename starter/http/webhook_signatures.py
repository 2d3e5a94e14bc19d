"""What the signed webhooks (SendGrid's Event Webhook, the support desk) share: the two ways a
signature check fails, and the HTTP answer to each."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from fastapi import HTTPException
from structlog.typing import FilteringBoundLogger


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
