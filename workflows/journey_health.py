"""The account's health as the journey keeps it: recomputed from usage, surveys, escalations,
renewal and engagement; its score, band and dynamic segment on the journey and in the CRM.
Also the engagement facts health reads: when the customer last responded, their replies."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import SearchAttributeUpdate

with workflow.unsafe.imports_passed_through():
    from activities.health import HealthActivities
    from domain.models import HealthInputs
    from workflows import search_attributes as sa
    from workflows.activity_calls import call
    from workflows.contract_dates import contract_end_at
    from workflows.customer_event import CustomerEventType, UsageReportedPayload
    from workflows.idempotency import step_key
    from workflows.journey_context import JourneyContext
    from workflows.journey_state import HEALTH_HISTORY_LIMIT, HealthPoint

# Engagement is judged over this window (emails sent, replies received).
ENGAGEMENT_WINDOW = timedelta(days=90)


class HealthKeeper:
    def __init__(self, journey: JourneyContext) -> None:
        self._journey = journey

    async def refresh(self, reason: str = "event") -> None:
        """Recompute the score (idempotent per event or per recompute request)."""
        journey, state = self._journey, self._journey.state
        now = workflow.now()
        days_to_renewal = None
        if state.contract_end is not None:
            days_to_renewal = (contract_end_at(state.contract_end) - now).days
        workflow_id = workflow.info().workflow_id
        if reason == "event":
            key = step_key(workflow_id, "health", state.sequence + 1)
        else:
            # Recomputes between events need keys of their own.
            state.health_recomputes += 1
            key = step_key(workflow_id, f"health:{reason}", state.health_recomputes)
        recent = now - ENGAGEMENT_WINDOW
        health = await call(
            HealthActivities.compute_health_score,
            HealthInputs(
                account_id=journey.account.id,
                licensed_seats=state.usage.licensed_seats,
                active_users=state.usage.active_users,
                feature_adoption=state.usage.feature_adoption,
                open_escalations=len([e for e in state.escalations if e.open]),
                latest_nps=state.latest_nps,
                latest_csat=state.latest_csat,
                days_to_renewal=days_to_renewal,
                auto_renew=state.auto_renew,
                outreach_sent_90d=len([e for e in state.log.emails if e.at >= recent]) or None,
                outreach_replied_90d=len([r for r in state.replies if r >= recent]) or None,
                # The customer's last action (reply, answer, ticket, product use) or, before
                # any, the start of the relationship.
                days_since_last_touchpoint=(
                    now - (state.last_response_at or state.started_at)
                ).days,
                lifecycle_stage=state.stage,
                now=now,
                workflow_id=workflow_id,
                idempotency_key=key,
            ),
        )
        state.health_score = health.score
        state.health_band = health.band.value
        updates: list[SearchAttributeUpdate[Any]] = [sa.HEALTH_SCORE.value_set(health.score)]
        if health.segment is not None:
            if health.segment != state.segment_key:
                journey.note("segment", f"{state.segment_key or '-'} -> {health.segment}")
            state.segment_key = health.segment
            updates.append(sa.SEGMENT.value_set(health.segment))
        state.health_history.append(
            HealthPoint(
                at=now,
                score=health.score,
                band=health.band.value,
                segment=state.segment_key,
                reason=reason,
            )
        )
        del state.health_history[:-HEALTH_HISTORY_LIMIT]
        workflow.upsert_search_attributes(updates)

    def usage(self, usage: UsageReportedPayload) -> None:
        """Record a usage report; reaching a milestone is the customer acting on what we sent."""
        state = self._journey.state
        state.usage.active_users = usage.active_users
        state.usage.licensed_seats = usage.licensed_seats
        state.usage.feature_adoption = usage.feature_adoption
        if usage.milestone is not None and usage.milestone.value not in state.milestones:
            state.milestones.append(usage.milestone.value)
            state.last_response_at = workflow.now()

    def responded(self, kind: CustomerEventType) -> None:
        """The customer acted: the current silence (if any) is over."""
        state = self._journey.state
        now = workflow.now()
        state.last_response_at = now
        if kind == CustomerEventType.EMAIL_REPLIED:
            state.replies = [r for r in state.replies if r >= now - ENGAGEMENT_WINDOW] + [now]
        state.silence_playbook_open = False
