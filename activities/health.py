"""`compute_health_score`: score an account and keep the score with the facts behind it."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from temporalio import activity

from activities.context import activity_logger, attempt_key, in_thread
from activities.crm import require_account
from crm.database import get_store
from crm.tables import HealthScoreRow, utcnow
from crm.timeline import record_touchpoint
from domain.health import score_health
from domain.models import HealthBand, HealthComponent, HealthInputs, HealthScore, TouchpointKind


def _from_row(row: HealthScoreRow) -> HealthScore:
    return HealthScore(
        account_id=row.account_id,
        score=row.score,
        band=HealthBand(row.band),
        components=[HealthComponent.model_validate(c) for c in row.components],
        computed_at=row.computed_at,
    )


def _compute(facts: HealthInputs) -> HealthScore:
    key = facts.idempotency_key or attempt_key("health")
    store = get_store()
    try:
        with store.session() as session:
            account = require_account(session, facts.account_id)
            if key is not None:
                existing = session.exec(
                    select(HealthScoreRow).where(HealthScoreRow.idempotency_key == key)
                ).first()
                if existing is not None:
                    return _from_row(existing)
            result = score_health(facts, computed_at=utcnow())
            row = HealthScoreRow(
                account_id=facts.account_id,
                score=result.score,
                band=result.band.value,
                components=[c.model_dump(mode="json") for c in result.components],
                inputs=facts.model_dump(mode="json", exclude={"idempotency_key"}),
                computed_at=result.computed_at,
                idempotency_key=key,
            )
            session.add(row)
            previous = account.health_score
            account.health_score = result.score
            session.flush()
            record_touchpoint(
                session,
                account_id=facts.account_id,
                kind=TouchpointKind.HEALTH_SCORE,
                summary=f"Health score {result.score} ({result.band.value})"
                + (f", was {previous}" if previous is not None else ""),
                idempotency_key=f"health:{row.id}",
                workflow_id=facts.workflow_id,
                details={"score": result.score, "previous": previous},
            )
            return result
    except IntegrityError:
        with store.session() as session:
            found = session.exec(
                select(HealthScoreRow).where(HealthScoreRow.idempotency_key == key)
            ).first()
            if found is None:
                raise
            return _from_row(found)


@activity.defn(name="compute_health_score")
async def compute_health_score(facts: HealthInputs) -> HealthScore:
    """Weighted 0-100 health score; stored with its inputs and set on the account."""
    result = await in_thread(_compute, facts)
    activity_logger(account_id=facts.account_id).info(
        "health scored", score=result.score, band=result.band.value
    )
    return result
