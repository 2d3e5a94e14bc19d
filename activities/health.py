"""`compute_health_score` and `explain_health`: score an account with its tier's rules, keep the
score with the facts behind it, and re-segment the account."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from temporalio import activity

from activities.clock import Clock, system_clock, utc_now
from activities.context import activity_logger, attempt_key, in_thread
from activities.crm_lookups import require_account
from activities.errors import INVALID_INPUT, permanent
from crm.database import Store
from crm.health_history import explain, latest_scores
from crm.tables import HealthScoreRow
from crm.timeline import record_touchpoint
from domain.health import score_health, settled_band
from domain.health_config import health_config_for
from domain.models import (
    AccountRef,
    HealthBand,
    HealthComponent,
    HealthExplanation,
    HealthInputs,
    HealthScore,
    LifecycleStage,
    Segment,
    SegmentationMode,
    TouchpointKind,
)
from domain.segmentation import segment_for
from domain.settings import Settings
from domain.words import in_words


def _from_row(row: HealthScoreRow, previous: HealthScoreRow | None) -> HealthScore:
    return HealthScore(
        account_id=row.account_id,
        score=row.score,
        band=HealthBand(row.band),
        components=[HealthComponent.model_validate(c) for c in row.components],
        computed_at=row.computed_at,
        segment=row.segment,
        tier=None,
        segmentation=SegmentationMode(row.segmentation) if row.segmentation else None,
        previous_score=previous.score if previous else None,
        previous_band=HealthBand(previous.band) if previous else None,
    )


class HealthActivities:
    """Health scoring on one store, segmenting as `CSFLOW_SEGMENTATION` says."""

    def __init__(self, store: Store, settings: Settings, clock: Clock = system_clock) -> None:
        self.store = store
        self.segmentation = settings.segmentation
        self.clock = clock

    @activity.defn(name="compute_health_score")
    async def compute_health_score(self, input: HealthInputs) -> HealthScore:
        """Weighted 0-100 health score with the tier's weights and cut-offs; stored with its
        inputs, set on the account together with the account's new segment key."""
        result = await in_thread(self._compute, input)
        activity_logger(account_id=input.account_id).info(
            "health scored", score=result.score, band=result.band.value, segment=result.segment
        )
        return result

    @activity.defn(name="explain_health")
    async def explain_health(self, input: AccountRef) -> HealthExplanation:
        """The latest score's components and what changed since the previous score."""
        return await in_thread(self.explain_latest, input.account_id)

    def _stored(self, key: str) -> HealthScore | None:
        with self.store.session() as session:
            row = session.exec(
                select(HealthScoreRow).where(HealthScoreRow.idempotency_key == key)
            ).first()
            if row is None:
                return None
            # The row scored just before this one is its "previous".
            earlier = [
                r
                for r in latest_scores(session, row.account_id, limit=50)
                if (r.computed_at, r.id or 0) < (row.computed_at, row.id or 0)
            ]
            result = _from_row(row, earlier[0] if earlier else None)
            account = require_account(session, row.account_id)
            return result.model_copy(update={"tier": Segment(account.segment)})

    def _compute(self, facts: HealthInputs) -> HealthScore:
        key = facts.idempotency_key or attempt_key("health")
        mode = self.segmentation
        if key is not None and (found := self._stored(key)) is not None:
            return found
        try:
            with self.store.session() as session:
                account = require_account(session, facts.account_id)
                tier = Segment(account.segment)
                config = health_config_for(tier)
                previous_rows = latest_scores(session, facts.account_id, limit=1)
                previous = previous_rows[0] if previous_rows else None
                result = score_health(
                    facts, computed_at=facts.now or utc_now(self.clock), config=config
                )
                stage = facts.lifecycle_stage or LifecycleStage(account.lifecycle_stage)
                band = settled_band(
                    result.score, HealthBand(previous.band) if previous else None, config
                )
                assignment = segment_for(account.to_model(), band, stage, mode)
                row = HealthScoreRow(
                    account_id=facts.account_id,
                    score=result.score,
                    band=result.band.value,
                    components=[c.model_dump(mode="json") for c in result.components],
                    inputs=facts.model_dump(mode="json", exclude={"idempotency_key"}),
                    computed_at=result.computed_at,
                    idempotency_key=key,
                    segment=assignment.key,
                    segmentation=mode.value,
                    lifecycle_stage=stage.value,
                    healthy_from=config.healthy_from,
                    at_risk_from=config.at_risk_from,
                )
                session.add(row)
                previous_score = account.health_score
                previous_segment = account.segment_key
                account.health_score = result.score
                account.segment_key = assignment.key
                session.flush()
                moved = previous_segment is not None and previous_segment != assignment.key
                record_touchpoint(
                    session,
                    account_id=facts.account_id,
                    kind=TouchpointKind.HEALTH_SCORE,
                    summary=f"Health score {result.score}, {in_words(result.band).lower()}"
                    + (f" (was {previous_score})" if previous_score is not None else "")
                    + (
                        # A static key is a tier's value (`mid_market`): said in words; a
                        # dynamic one (`smb-critical-adoption`) lower-case and hyphenated already.
                        f"; segment moved from {in_words(previous_segment).lower()} to "
                        f"{in_words(assignment.key).lower()}"
                        if moved and previous_segment is not None
                        else ""
                    ),
                    idempotency_key=f"health:{row.id}",
                    workflow_id=facts.workflow_id,
                    occurred_at=result.computed_at,
                    details={
                        "score": result.score,
                        "previous": previous_score,
                        "segment": assignment.key,
                        "previous_segment": previous_segment,
                    },
                )
                return result.model_copy(
                    update={
                        "segment": assignment.key,
                        "tier": tier,
                        "segmentation": mode,
                        "previous_score": previous.score if previous else None,
                        "previous_band": HealthBand(previous.band) if previous else None,
                    }
                )
        except IntegrityError:
            # A concurrent attempt stored the same key first: its row is the answer.
            if key is None or (found := self._stored(key)) is None:
                raise
            return found

    def explain_latest(self, account_id: str) -> HealthExplanation:
        with self.store.session() as session:
            account = require_account(session, account_id)
            explanation = explain(session, account)
            if explanation is None:
                raise permanent(INVALID_INPUT, f"account {account_id!r} has no health score yet")
            return explanation
