"""Calls, meetings and notes a CSM logs on an account's timeline (`csflow log ...`): the "actual"
side of `csflow plan`, which counts the touchpoints whose `logged_by` is the CSM."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from crm.database import Store
from crm.tables import AccountRow
from crm.task_lifecycle import Email, InputRefused, Moment, Outcome
from crm.timeline import record_touchpoint
from domain.models import Touchpoint, TouchpointKind

# A clock a little ahead of ours still logs "now".
_CLOCK_SKEW = timedelta(minutes=5)


class LoggedKind(StrEnum):
    CALL = TouchpointKind.CALL.value
    MEETING = TouchpointKind.MEETING.value
    NOTE = TouchpointKind.NOTE.value


class TouchpointLog(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: LoggedKind
    summary: Outcome = Field(description="what was said or done")
    by: Email | None = Field(default=None, description="who (default: the account's CSM)")
    at: Moment | None = Field(default=None, description="when it happened (default: now)")


class UnknownAccount(LookupError):
    def __init__(self, account_id: str) -> None:
        super().__init__(f"no account {account_id!r}")
        self.account_id = account_id


def log_touchpoint(
    store: Store, account_id: str, entry: TouchpointLog, *, now: datetime | None = None
) -> Touchpoint:
    """Record what a person did with the account; `entry.at` may not lie in the future."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    at = entry.at.astimezone(UTC) if entry.at is not None else now
    if at > now + _CLOCK_SKEW:
        raise InputRefused(
            "at",
            f"{at:%Y-%m-%d %H:%M} UTC is in the future: log what happened (plan what will "
            "happen with a task)",
        )
    with store.session() as session:
        account = session.get(AccountRow, account_id)
        if account is None:
            raise UnknownAccount(account_id)
        by = entry.by or account.csm_owner
        row = record_touchpoint(
            session,
            account_id=account_id,
            kind=TouchpointKind(entry.kind.value),
            summary=entry.summary,
            idempotency_key=None,
            occurred_at=at,
            details={"logged_by": by},
        )
        return row.to_model()
