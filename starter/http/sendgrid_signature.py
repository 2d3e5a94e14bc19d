"""SendGrid Event Webhook signatures: ECDSA P-256 over timestamp + raw body, checked with
SendGrid's own `EventWebhook` helper."""

from __future__ import annotations

import binascii
import re
import time
from collections.abc import Mapping
from datetime import timedelta

from sendgrid.helpers.eventwebhook import EventWebhook

from starter.http.webhook_signatures import SignatureMissing, SignatureRejected

SIGNATURE_HEADER = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP_HEADER = "X-Twilio-Email-Event-Webhook-Timestamp"
# Unix seconds: 10 digits until 2286. Bounded before int(), so a 400-digit header cannot
# overflow the window arithmetic.
_TIMESTAMP = re.compile(r"[0-9]{1,11}")


def verify_sendgrid_signature(
    body: bytes,
    headers: Mapping[str, str],
    public_key: str | None,
    tolerance: timedelta,
    now: float | None = None,
) -> None:
    signature, timestamp = headers.get(SIGNATURE_HEADER), headers.get(TIMESTAMP_HEADER)
    if not public_key:
        raise SignatureRejected("SENDGRID_WEBHOOK_PUBLIC_KEY is not configured")
    if not signature or not timestamp:
        raise SignatureMissing(f"{SIGNATURE_HEADER} and {TIMESTAMP_HEADER} are required")
    if not _TIMESTAMP.fullmatch(timestamp):
        raise SignatureRejected(f"{TIMESTAMP_HEADER} must be unix seconds (at most 11 digits)")
    sent_at = int(timestamp)
    if abs((now if now is not None else time.time()) - sent_at) > tolerance.total_seconds():
        raise SignatureRejected("signature timestamp outside the accepted window")
    try:
        payload = body.decode("utf-8")
        verifier = EventWebhook(public_key)
        valid = verifier.verify_signature(payload, signature, timestamp)
    except (UnicodeDecodeError, binascii.Error, ValueError, TypeError) as exc:
        # Undecodable body, signature or key: treated like a wrong signature, never a 500.
        raise SignatureRejected(f"signature could not be checked: {type(exc).__name__}") from exc
    if not valid:
        raise SignatureRejected("signature does not match the body")
