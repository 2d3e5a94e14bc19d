"""Every environment variable csflow reads, as one typed model (README "Settings" lists them).

`Settings.from_env()` reads the process environment (or a given mapping): values are stripped and
blank ones count as unset, and a value csflow cannot use raises `SettingsError` naming its
variable. `Settings(field=...)` builds settings from explicit values only (tests, embedding).
The Temporal connection (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS_*)
is not here: `temporalio.envconfig` reads it (starter/connection.py).

`python -m domain.settings_table` prints the README table.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Self

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from domain.models import SegmentationMode

DEFAULT_DATABASE_URL = "sqlite:///var/csflow.db"
# A path secret is a password that ends up in SendGrid's settings and proxies' logs: long, plain.
MIN_PATH_SECRET_CHARS = 24
# Signs console sessions: a short key could be guessed offline from one cookie.
MIN_CONSOLE_SECRET_CHARS = 32
_URL_SAFE = re.compile(r"[A-Za-z0-9_\-]+")
# Signs unsubscribe links where no secret is configured outside production: public, so such
# links are forgeable; production never uses it (Settings.unsubscribe_key).
DEVELOPMENT_UNSUBSCRIBE_KEY = "csflow-development-unsubscribe-key"


class SettingsError(ValueError):
    """An environment variable holds a value csflow cannot use; the message names it."""


class Settings(BaseSettings):
    """csflow's settings; every field is read from the variable named by its alias, and its
    docstring is its description (the README table's)."""

    model_config = SettingsConfigDict(
        frozen=True, validate_by_name=True, case_sensitive=True, use_attribute_docstrings=True
    )

    # -- processes --------------------------------------------------------------------------
    task_queue: str = Field(default="csflow", validation_alias="CSFLOW_TASK_QUEUE")
    """Temporal task queue of the worker, the API and the CLI"""
    environment: str = Field(default="development", validation_alias="CSFLOW_ENV")
    """`production`: JSON logs, and the worker leaves migrations to a job"""
    log_level: str = Field(default="INFO", validation_alias="CSFLOW_LOG_LEVEL")
    """log threshold (Python level)"""
    register_search_attributes: bool = Field(
        default=True, validation_alias="CSFLOW_REGISTER_SEARCH_ATTRIBUTES"
    )
    """the worker registers csflow's search attributes at start-up"""
    metrics_port: int | None = Field(default=None, validation_alias="CSFLOW_METRICS_PORT")
    """port of the worker's Prometheus `/metrics` (unset: no metrics)"""
    metrics_host: str = Field(default="0.0.0.0", validation_alias="CSFLOW_METRICS_HOST")
    """address metrics bind to"""
    api_host: str = Field(default="127.0.0.1", validation_alias="CSFLOW_API_HOST")
    """address `csflow api` binds"""
    api_port: int = Field(default=8000, validation_alias="CSFLOW_API_PORT")
    """port `csflow api` listens on"""
    healthcheck_url: str | None = Field(default=None, validation_alias="CSFLOW_HEALTHCHECK_URL")
    """what the image's health probe GETs (unset: chosen from the process)"""
    temporal_cli: Path | None = Field(default=None, validation_alias="CSFLOW_TEMPORAL_CLI")
    """the `temporal` CLI binary (unset: the one installed with csflow)"""
    temporal_test_server: Path | None = Field(
        default=None, validation_alias="CSFLOW_TEMPORAL_TEST_SERVER"
    )
    """Temporal's time-skipping test server binary (unset: the installed one)"""

    # -- CRM and activities -----------------------------------------------------------------
    database_url: str = Field(default=DEFAULT_DATABASE_URL, validation_alias="DATABASE_URL")
    """SQLAlchemy URL of the CRM store (SQLite or PostgreSQL)"""
    segmentation: SegmentationMode = Field(
        default=SegmentationMode.DYNAMIC, validation_alias="CSFLOW_SEGMENTATION"
    )
    """`static`: segment = ARR tier; `dynamic`: tier x health band x phase"""
    sendgrid_api_key: SecretStr | None = Field(default=None, validation_alias="SENDGRID_API_KEY")
    """SendGrid Mail Send key (unset: emails become `.eml` files in the outbox)"""
    outbox_dir: Path = Field(default=Path("var/outbox"), validation_alias="CSFLOW_OUTBOX_DIR")
    """where emails are written without a SendGrid key"""
    from_email: str = Field(
        default="success@csflow.example.com", validation_alias="CSFLOW_FROM_EMAIL"
    )
    """sender address of every email"""
    from_name: str = Field(default="Customer Success", validation_alias="CSFLOW_FROM_NAME")
    """sender name"""
    reply_secret: SecretStr | None = Field(default=None, validation_alias="CSFLOW_REPLY_SECRET")
    """HMAC key of the reply-to addresses (unset: replies go to the CSM, and inbound replies
    are ignored)"""
    reply_domain: str = Field(
        default="reply.csflow.example", validation_alias="CSFLOW_REPLY_DOMAIN"
    )
    """domain of the reply-to addresses (SendGrid Inbound Parse)"""
    contact_governor: bool = Field(default=True, validation_alias="CSFLOW_CONTACT_GOVERNOR")
    """quiet hours and frequency cap for customer emails (opt-outs always apply)"""
    public_url: str = Field(default="http://localhost:8000", validation_alias="CSFLOW_PUBLIC_URL")
    """base URL of the API in survey and unsubscribe links"""

    # -- what customers see in an email -----------------------------------------------------
    company_name: str = Field(default="Example Software", validation_alias="CSFLOW_COMPANY_NAME")
    """the company customers buy from, named in email signatures and footers"""
    team_names: Annotated[dict[str, str], NoDecode] = Field(
        default={}, validation_alias="CSFLOW_TEAM_NAMES"
    )
    """display names of CSMs by address (others: from the address, `casey.csm@...` is Casey)"""
    email_signature: str | None = Field(default=None, validation_alias="CSFLOW_EMAIL_SIGNATURE")
    """line under the CSM's name in customer emails (unset: `Customer Success, <company>`)"""
    postal_address: str | None = Field(default=None, validation_alias="CSFLOW_POSTAL_ADDRESS")
    """postal address in the footer of customer emails (CAN-SPAM asks for one)"""
    meeting_url: str | None = Field(default=None, validation_alias="CSFLOW_MEETING_URL")
    """video-call link of kickoff meetings (unset: the invitation asks the customer for one)"""
    unsubscribe_secret: SecretStr | None = Field(
        default=None, validation_alias="CSFLOW_UNSUBSCRIBE_SECRET"
    )
    """HMAC key of unsubscribe links, for the worker and the API (unset: CSFLOW_REPLY_SECRET;
    neither set: a development key, and in production no one-click link)"""

    # -- API --------------------------------------------------------------------------------
    api_tokens: Annotated[tuple[SecretStr, ...], NoDecode] = Field(
        default=(), validation_alias="CSFLOW_API_TOKENS"
    )
    """bearer tokens for the `/v1` API: events, tasks, journeys (none: it refuses every caller)"""
    sendgrid_webhook_public_key: str | None = Field(
        default=None, validation_alias="SENDGRID_WEBHOOK_PUBLIC_KEY"
    )
    """Event Webhook verification key, base64 DER (unset: events are refused)"""
    inbound_user: SecretStr | None = Field(default=None, validation_alias="CSFLOW_INBOUND_USER")
    """basic-auth user of the Inbound Parse URL (with CSFLOW_INBOUND_PASSWORD)"""
    inbound_password: SecretStr | None = Field(
        default=None, validation_alias="CSFLOW_INBOUND_PASSWORD"
    )
    """basic-auth password of the Inbound Parse URL"""
    # The description names the minimum, so it is computed rather than a docstring.
    inbound_path_secret: SecretStr | None = Field(
        default=None,
        validation_alias="CSFLOW_INBOUND_PATH_SECRET",
        description=f"secret path segment of the Inbound Parse URL ({MIN_PATH_SECRET_CHARS}+ "
        "URL-safe characters)",
    )
    support_webhook_secret: SecretStr | None = Field(
        default=None, validation_alias="CSFLOW_SUPPORT_WEBHOOK_SECRET"
    )
    """HMAC key of support-desk webhooks (unset: they are refused)"""
    product_name: str = Field(default="our product", validation_alias="CSFLOW_PRODUCT_NAME")
    """named in emails and NPS pages"""
    survey_ttl: timedelta = Field(
        default=timedelta(days=60), gt=timedelta(0), validation_alias="CSFLOW_SURVEY_TTL_DAYS"
    )
    """days a survey link accepts answers"""

    # -- process map ------------------------------------------------------------------------
    process_map: Path | None = Field(default=None, validation_alias="CSFLOW_PROCESS_MAP")
    """the cross-functional process map, a YAML file (unset: the shipped map,
    `domain/process_maps/default.yaml`)"""

    # -- CS console (/console on the API) ---------------------------------------------------
    # The description names the minimum, so it is computed rather than a docstring.
    console_secret: SecretStr | None = Field(
        default=None,
        validation_alias="CSFLOW_CONSOLE_SECRET",
        description=f"key that signs the console's session cookies ({MIN_CONSOLE_SECRET_CHARS}+ "
        "characters; unset: a random key per process, so a restart signs everyone out and "
        "replicas do not share sessions)",
    )
    temporal_ui_url: str | None = Field(default=None, validation_alias="CSFLOW_TEMPORAL_UI_URL")
    """address of the Temporal Web UI the console links each workflow to (unset: no links)"""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # `Settings(...)` holds what it is given: only `from_env` reads variables.
        return (init_settings,)

    @property
    def production(self) -> bool:
        return self.environment.lower() == "production"

    def unsubscribe_key(self) -> str | None:
        """The key unsubscribe links are signed with: CSFLOW_UNSUBSCRIBE_SECRET, else
        CSFLOW_REPLY_SECRET; with neither, a fixed development key outside production (so the
        worker and the API of a development stack agree) and None in production."""
        for secret in (self.unsubscribe_secret, self.reply_secret):
            if secret is not None:
                return secret.get_secret_value()
        return None if self.production else DEVELOPMENT_UNSUBSCRIBE_KEY

    @field_validator("api_tokens", mode="before")
    @classmethod
    def _split_tokens(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(t.strip() for t in value.split(",") if t.strip())
        return value

    @field_validator("team_names", mode="before")
    @classmethod
    def _split_names(cls, value: Any) -> Any:
        # `casey@example.com=Casey Jones, morgan@example.com=Morgan`; addresses compare folded.
        if not isinstance(value, str):
            return value
        names: dict[str, str] = {}
        for pair in value.split(","):
            if not pair.strip():
                continue
            email, equals, name = pair.partition("=")
            if not equals or "@" not in email or not name.strip():
                raise ValueError(f"expected email=Name pairs, got {pair.strip()!r}")
            names[email.strip().lower()] = " ".join(name.split())
        return names

    @field_validator("public_url", "meeting_url", "temporal_ui_url")
    @classmethod
    def _web_address(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"https?://[^\s/]+", value):
            raise ValueError(f"must be an http(s) URL, got {value!r}")
        return value.rstrip("/") if value is not None else None

    @field_validator("survey_ttl", mode="before")
    @classmethod
    def _days(cls, value: Any) -> Any:
        # The variable holds days; a timedelta given by name passes unchanged.
        if isinstance(value, str):
            try:
                return timedelta(days=float(value))
            except ValueError:
                raise ValueError(f"must be a number of days, got {value!r}") from None
        return value

    @field_validator("segmentation", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value

    @field_validator("metrics_port", "api_port")
    @classmethod
    def _port(cls, value: int | None) -> int | None:
        if value is not None and not 0 < value < 65536:
            raise ValueError(f"must be a port number, got {value}")
        return value

    @field_validator("inbound_path_secret")
    @classmethod
    def _path_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        secret = value.get_secret_value()
        if len(secret) < MIN_PATH_SECRET_CHARS:
            raise ValueError(f"must be at least {MIN_PATH_SECRET_CHARS} characters")
        if not _URL_SAFE.fullmatch(secret):
            raise ValueError("must be URL-safe: letters, digits, '-' and '_'")
        return value

    @field_validator("console_secret")
    @classmethod
    def _console_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < MIN_CONSOLE_SECRET_CHARS:
            raise ValueError(f"must be at least {MIN_CONSOLE_SECRET_CHARS} characters")
        return value

    @model_validator(mode="after")
    def _inbound_pair(self) -> Self:
        if (self.inbound_user is None) != (self.inbound_password is None):
            raise ValueError("CSFLOW_INBOUND_USER and CSFLOW_INBOUND_PASSWORD must be set together")
        return self

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Self:
        """Settings from `environ` (default: the process environment)."""
        try:
            return cls.model_validate(_Environment(cls, environ)())
        except ValidationError as exc:
            raise SettingsError(f"invalid settings: {_describe(exc)}") from None


class _Environment(EnvSettingsSource):
    """Variables from a mapping (default `os.environ`): stripped, blank ones unset."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str] | None) -> None:
        self._environ = environ  # before super(): its __init__ loads the variables
        super().__init__(settings_cls, case_sensitive=True)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        source = os.environ if self._environ is None else self._environ
        return {name: value.strip() for name, value in source.items() if value.strip()}


def _describe(exc: ValidationError) -> str:
    """`VARIABLE: problem; ...` (errors of the model as a whole name their variables)."""
    problems = []
    for error in exc.errors():
        message = error["msg"].removeprefix("Value error, ")
        where = ".".join(str(part) for part in error["loc"])
        problems.append(f"{where}: {message}" if where else message)
    return "; ".join(problems)
