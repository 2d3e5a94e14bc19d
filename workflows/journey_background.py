"""Work that signals ask of the journey and that needs activities, done between customer events:
a health recompute (nightly), campaign emails, and the playbooks triggered by the work log
growing (the silence check)."""

from __future__ import annotations

from collections.abc import Callable

from temporalio import workflow
from temporalio.exceptions import TemporalError

with workflow.unsafe.imports_passed_through():
    from domain.models import ContactRole, LifecycleStage
    from workflows.campaign import CampaignKind, CampaignMessage
    from workflows.contract_dates import contract_end_at
    from workflows.journey_context import JourneyContext
    from workflows.journey_health import HealthKeeper
    from workflows.journey_intake import failure_reason
    from workflows.journey_state import CAMPAIGNS_LIMIT
    from workflows.playbooks.launcher import PlaybookLauncher
    from workflows.playbooks.spec import JourneyMoment


class BackgroundWork:
    def __init__(
        self, journey: JourneyContext, health: HealthKeeper, playbooks: PlaybookLauncher
    ) -> None:
        self._journey = journey
        self._health = health
        self._playbooks = playbooks
        self.health_request: str | None = None
        self.busy = False

    def take_campaign(self, message: CampaignMessage) -> None:
        state = self._journey.state
        if message.campaign_run_id in state.campaigns_seen or any(
            m.campaign_run_id == message.campaign_run_id for m in state.campaign_pending
        ):
            return  # a re-delivered campaign signal: the email went (or goes) out once
        state.campaign_pending.append(message)

    @property
    def due(self) -> bool:
        journey = self._journey
        return (
            self.health_request is not None
            or bool(journey.state.campaign_pending)
            or journey.work_logged
        )

    async def run(self, may_start: Callable[[], bool]) -> None:
        """Do what is due whenever no customer event is being applied."""
        journey, state = self._journey, self._journey.state
        while True:
            await workflow.wait_condition(lambda: self.due and may_start())
            self.busy = True
            try:
                if self.health_request is not None:
                    reason, self.health_request = self.health_request, None
                    await self._health.refresh(reason)
                    # Answer windows close with time, not with events: look at silence again.
                    journey.work_logged = True
                while state.campaign_pending:
                    await self._campaign(state.campaign_pending[0])
                    state.campaign_pending.pop(0)
                if journey.work_logged:
                    journey.work_logged = False
                    await self._playbooks.on(JourneyMoment.WORK_LOGGED, journey.trigger())
            except Exception as exc:
                workflow.logger.warning("background work failed: %s", exc)
                reason = str(exc) if isinstance(exc, TemporalError) else failure_reason(exc)
                journey.note("background_failed", reason)
                state.campaign_pending.clear()
            finally:
                self.busy = False

    async def _campaign(self, message: CampaignMessage) -> None:
        journey, state = self._journey, self._journey.state
        state.campaigns_seen = [*state.campaigns_seen, message.campaign_run_id][-CAMPAIGNS_LIMIT:]
        if state.stage == LifecycleStage.CHURNED:
            return
        if message.kind == CampaignKind.RENEWAL_OUTREACH and (
            state.stage == LifecycleStage.RENEWAL or state.auto_renew
        ):
            # The renewal workflow talks to this customer about their renewal (an auto-renewing
            # one gets its single notice there): one voice, not two.
            journey.note("campaign", f"{message.campaign_run_id} not sent: renewal handled")
            return
        context = dict(message.context)
        if message.kind == CampaignKind.RENEWAL_OUTREACH:
            contact = journey.input.contact_for(ContactRole.DECISION_MAKER, ContactRole.CHAMPION)
            if state.contract_end is not None:
                context.setdefault("renewal_date", state.contract_end.isoformat())
                days = (contract_end_at(state.contract_end) - workflow.now()).days
                context.setdefault("days_left", max(0, days))
        else:
            contact = journey.input.contact_for(ContactRole.CHAMPION)
        await journey.work().email(
            message.template or message.kind.value,
            f"campaign:{message.campaign_run_id}",
            context=context,
            to=contact,
            category="campaign",
        )
        journey.note("campaign", f"{message.kind.value} {message.campaign_run_id}")
        journey.work_logged = True
