"""Support desk webhook signatures: HMAC-SHA256 over the timestamp and the raw body.

    X-Signature-Timestamp: <unix seconds>
    X-Signature: sha256=<hex HMAC-SHA256(CSFLOW_SUPPORT_WEBHOOK_SECRET, "<timestamp>." + body)>

The timestamp is signed, so a captured delivery is refused once it is older than the tolerance;
within the tolerance the delivery id refuses it (support_webhook).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Mapping
from datetime import timedelta

from starter.http.webhook_signatures import SignatureMissing, SignatureRejected

SIGNATURE_HEADER = "X-Signature"
TIMESTAMP_HEADER = "X-Signature-Timestamp"
_SIGNATURE = re.compile(r"sha256=([0-9a-fA-F]{64})")
# Unix seconds, bounded before int() (a 400-digit value would overflow the window arithmetic).
_TIMESTAMP = re.compile(r"[0-9]{1,11}")


def support_signature(secret: str, timestamp: str, body: bytes) -> str:
    """The X-Signature value for `body` sent at `timestamp` (what the desk computes)."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def verify_support_signature(
    body: bytes,
    headers: Mapping[str, str],
    secret: str,
    tolerance: timedelta,
    now: float | None = None,
) -> None:
    signature, timestamp = headers.get(SIGNATURE_HEADER), headers.get(TIMESTAMP_HEADER)
    if not signature or not timestamp:
        raise SignatureMissing(f"{SIGNATURE_HEADER} and {TIMESTAMP_HEADER} are required")
    if _SIGNATURE.fullmatch(signature.strip()) is None:
        raise SignatureRejected(f"malformed {SIGNATURE_HEADER}; expected sha256=<64 hex>")
    stamp = timestamp.strip()
    if not _TIMESTAMP.fullmatch(stamp):
        raise SignatureRejected(f"{TIMESTAMP_HEADER} must be unix seconds (at most 11 digits)")
    if abs((now if now is not None else time.time()) - int(stamp)) > tolerance.total_seconds():
        raise SignatureRejected(f"{TIMESTAMP_HEADER} is outside the accepted window")
    expected = support_signature(secret, stamp, body)
    if not hmac.compare_digest(expected, signature.strip().lower()):
        raise SignatureRejected("signature does not match the timestamp and body")
