"""Reading the health history: the latest scores of an account and what changed between them."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from crm.tables import AccountRow, HealthScoreRow
from domain.health import AT_RISK_FROM, HEALTHY_FROM
from domain.models import (
    ComponentChange,
    HealthBand,
    HealthChanges,
    HealthComponent,
    HealthExplanation,
    InputChange,
)

# Bookkeeping fields that say nothing about the account's health.
_NOT_FACTS = {"account_id", "workflow_id", "idempotency_key", "now"}


def latest_scores(session: Session, account_id: str, limit: int = 2) -> list[HealthScoreRow]:
    """Newest first."""
    return list(
        session.exec(
            select(HealthScoreRow)
            .where(HealthScoreRow.account_id == account_id)
            .order_by(col(HealthScoreRow.computed_at).desc(), col(HealthScoreRow.id).desc())
            .limit(limit)
        ).all()
    )


def _changes(latest: HealthScoreRow, previous: HealthScoreRow) -> HealthChanges:
    before = {c["name"]: float(c["points"]) for c in previous.components}
    components = []
    for component in latest.components:
        name = component["name"]
        was = before.get(name, 0.0)
        now = float(component["points"])
        components.append(
            ComponentChange(name=name, points_before=was, points_now=now, delta=round(now - was, 2))
        )
    inputs: list[InputChange] = []
    for field in sorted((set(latest.inputs) | set(previous.inputs)) - _NOT_FACTS):
        was_value: Any = previous.inputs.get(field)
        now_value: Any = latest.inputs.get(field)
        if was_value != now_value:
            inputs.append(InputChange(field=field, before=was_value, now=now_value))
    return HealthChanges(
        previous_score=previous.score,
        previous_band=HealthBand(previous.band),
        previous_computed_at=previous.computed_at,
        score_delta=latest.score - previous.score,
        components=components,
        inputs=inputs,
    )


def explain(session: Session, account: AccountRow) -> HealthExplanation | None:
    """The latest score of `account` with its parts and the change since the one before; None
    when the account was never scored."""
    rows = latest_scores(session, account.id)
    if not rows:
        return None
    latest = rows[0]
    return HealthExplanation(
        account_id=account.id,
        account_name=account.name,
        score=latest.score,
        band=HealthBand(latest.band),
        segment=latest.segment,
        computed_at=latest.computed_at,
        # Rows from before migration 0002 carry no cut-offs: they were scored with the reference.
        healthy_from=latest.healthy_from if latest.healthy_from is not None else HEALTHY_FROM,
        at_risk_from=latest.at_risk_from if latest.at_risk_from is not None else AT_RISK_FROM,
        components=[HealthComponent.model_validate(c) for c in latest.components],
        inputs={k: v for k, v in latest.inputs.items() if k not in _NOT_FACTS},
        changes=_changes(latest, rows[1]) if len(rows) > 1 else None,
    )
