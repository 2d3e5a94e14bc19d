"""The API's fixed limits and timeouts (not settings: no deployment has needed other values)."""

from __future__ import annotations

from datetime import timedelta

MAX_BODY_BYTES = 256 * 1024
# Per-call deadline for Temporal RPCs made while a caller waits.
TEMPORAL_RPC_TIMEOUT = timedelta(seconds=5)
# How long `?wait=true` waits for the journey to process an event.
EVENT_WAIT_TIMEOUT = timedelta(seconds=20)
READINESS_TIMEOUT = timedelta(seconds=2)
RETRY_AFTER_SECONDS = 5
# Signed SendGrid events older (or newer) than this are refused, so a captured request cannot
# be replayed later.
SENDGRID_TIMESTAMP_TOLERANCE = timedelta(minutes=10)
# Support deliveries signed longer ago than this (or this far ahead) are refused, and their
# delivery ids are remembered twice as long, so a captured delivery cannot be replayed.
SUPPORT_TIMESTAMP_TOLERANCE = timedelta(minutes=5)
# How long POST /v1/events remembers an event id with its content, to answer a re-post with a
# different event under the same id with 409 instead of dropping it silently.
EVENT_KEY_RETENTION = timedelta(days=30)
