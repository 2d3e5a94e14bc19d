"""API settings, read from the environment only (secrets are never committed)."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

MAX_BODY_BYTES = 256 * 1024
# A path secret is a password that ends up in SendGrid's settings and proxies' logs: long, plain.
MIN_PATH_SECRET_CHARS = 24
_URL_SAFE = re.compile(r"[A-Za-z0-9_\-]+")


class SettingsError(ValueError):
    """An environment variable holds a value the API cannot use; the message names it."""


class ApiSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    # Bearer tokens accepted by /v1/events; empty means the endpoint refuses everyone.
    api_tokens: tuple[SecretStr, ...] = ()
    # Base64 DER (what SendGrid's Mail Settings show) of the Event Webhook's ECDSA P-256 key.
    sendgrid_webhook_public_key: str | None = None
    # Signed events older (or newer) than this are refused, so a captured request cannot be
    # replayed later.
    sendgrid_timestamp_tolerance: timedelta = timedelta(minutes=10)
    reply_secret: SecretStr | None = None
    # Inbound Parse authenticates with basic auth in the webhook URL
    # (https://user:password@host/v1/webhooks/sendgrid/inbound) or a secret path segment
    # (/v1/webhooks/sendgrid/inbound/<secret>); either suffices. With neither the endpoint
    # refuses every request.
    inbound_user: SecretStr | None = None
    inbound_password: SecretStr | None = None
    inbound_path_secret: SecretStr | None = None
    reply_domain: str = "reply.csflow.example"
    support_webhook_secret: SecretStr | None = None
    # Support deliveries signed longer ago than this (or this far ahead) are refused, and their
    # delivery ids are remembered twice as long, so a captured delivery cannot be replayed.
    support_timestamp_tolerance: timedelta = Field(default=timedelta(minutes=5), gt=timedelta(0))
    # How long POST /v1/events remembers an event id with its content, to answer a re-post
    # with a different event under the same id with 409 instead of dropping it silently.
    event_key_retention: timedelta = Field(default=timedelta(days=30), gt=timedelta(0))
    task_queue: str = "csflow"
    survey_ttl: timedelta = Field(default=timedelta(days=60), gt=timedelta(0))
    product_name: str = "our product"
    max_body_bytes: int = Field(default=MAX_BODY_BYTES, gt=0)
    # Per-call deadline for Temporal RPCs made while a caller waits.
    temporal_rpc_timeout: timedelta = timedelta(seconds=5)
    # How long `?wait=true` waits for the journey to process an event.
    event_wait_timeout: timedelta = timedelta(seconds=20)
    readiness_timeout: timedelta = timedelta(seconds=2)
    retry_after_seconds: int = 5

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ApiSettings:
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        tokens = [t.strip() for t in env.get("CSFLOW_API_TOKENS", "").split(",")]
        values["api_tokens"] = tuple(SecretStr(t) for t in tokens if t)
        optional = {
            "SENDGRID_WEBHOOK_PUBLIC_KEY": "sendgrid_webhook_public_key",
            "CSFLOW_REPLY_SECRET": "reply_secret",
            "CSFLOW_REPLY_DOMAIN": "reply_domain",
            "CSFLOW_INBOUND_USER": "inbound_user",
            "CSFLOW_INBOUND_PASSWORD": "inbound_password",
            "CSFLOW_INBOUND_PATH_SECRET": "inbound_path_secret",
            "CSFLOW_SUPPORT_WEBHOOK_SECRET": "support_webhook_secret",
            "CSFLOW_TASK_QUEUE": "task_queue",
            "CSFLOW_PRODUCT_NAME": "product_name",
        }
        for variable, field in optional.items():
            if env.get(variable, "").strip():
                values[field] = env[variable].strip()
        if env.get("CSFLOW_SURVEY_TTL_DAYS", "").strip():
            values["survey_ttl"] = _days("CSFLOW_SURVEY_TTL_DAYS", env["CSFLOW_SURVEY_TTL_DAYS"])
        if ("inbound_user" in values) != ("inbound_password" in values):
            raise SettingsError(
                "CSFLOW_INBOUND_USER and CSFLOW_INBOUND_PASSWORD must be set together"
            )
        secret = values.get("inbound_path_secret")
        if isinstance(secret, str) and len(secret) < MIN_PATH_SECRET_CHARS:
            raise SettingsError(
                f"CSFLOW_INBOUND_PATH_SECRET must be at least {MIN_PATH_SECRET_CHARS} characters"
            )
        if isinstance(secret, str) and not _URL_SAFE.fullmatch(secret):
            raise SettingsError(
                "CSFLOW_INBOUND_PATH_SECRET must be URL-safe: letters, digits, '-' and '_'"
            )
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            raise SettingsError(f"invalid API settings: {exc}") from None


def _days(variable: str, raw: str) -> timedelta:
    try:
        return timedelta(days=float(raw))
    except ValueError:
        raise SettingsError(f"{variable} must be a number of days, got {raw!r}") from None
