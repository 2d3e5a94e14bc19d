"""Appending to an account's timeline (touchpoints), at most once per idempotency key."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from crm.tables import CsmTaskRow, TouchpointRow, utcnow
from domain.models import TouchpointKind


def record_touchpoint(
    session: Session,
    *,
    account_id: str,
    kind: TouchpointKind,
    summary: str,
    idempotency_key: str | None,
    occurred_at: datetime | None = None,
    workflow_id: str | None = None,
    step: str | None = None,
    details: dict[str, Any] | None = None,
) -> TouchpointRow:
    """Add a touchpoint in `session`, or return the one already recorded under the key."""
    if idempotency_key is not None:
        existing = session.exec(
            select(TouchpointRow).where(TouchpointRow.idempotency_key == idempotency_key)
        ).first()
        if existing is not None:
            return existing
    row = TouchpointRow(
        account_id=account_id,
        kind=kind.value,
        summary=summary[:2000],
        occurred_at=occurred_at or utcnow(),
        workflow_id=workflow_id,
        step=step,
        details=details or {},
        idempotency_key=idempotency_key,
    )
    session.add(row)
    session.flush()
    return row


def record_task_touchpoint(
    session: Session,
    task: CsmTaskRow,
    summary: str,
    idempotency_key: str | None,
    *,
    occurred_at: datetime | None = None,
    step: str | None = None,
    **details: Any,
) -> TouchpointRow:
    """A `task` touchpoint about `task` (created, closed, snoozed...): on its account, by the
    workflow that owns it, with the task's id in the details."""
    return record_touchpoint(
        session,
        account_id=task.account_id,
        kind=TouchpointKind.TASK,
        summary=summary,
        idempotency_key=idempotency_key,
        occurred_at=occurred_at,
        workflow_id=task.workflow_id,
        step=step,
        details={"task_id": task.id, **details},
    )
