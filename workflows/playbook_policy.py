"""Per-segment thresholds, delays and templates of the journey's playbooks.

Kept on the workflow side (carried in `JourneyInput.playbooks`) so a running journey keeps the
numbers it started with; `default_playbook_policy` gives the shipped values per ARR tier.
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field

from domain.models import Segment


class PlaybookTemplates(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    usage_check_in: str = "usage_check_in"
    re_engagement_product_updates: str = "re_engagement_product_updates"
    re_engagement_milestones: str = "re_engagement_milestones"
    re_engagement_help: str = "re_engagement_help"
    champion_reintroduction: str = "csm_introduction"
    upgrade_congratulations: str = "upgrade_congratulations"
    enablement: str = "training_material"
    upgrade_check_in: str = "upgrade_check_in"
    survey: str = "survey_invitation"
    renewal_campaign: str = "renewal_outreach"
    feature_release: str = "feature_release"


class PlaybookPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # Usage fluctuation: active users against the account's own recent normal.
    usage_drop_threshold: float = Field(default=0.25, gt=0, lt=1)
    usage_rise_threshold: float = Field(default=0.25, gt=0)
    usage_rise_reports: int = Field(default=3, ge=1)
    usage_baseline_reports: int = Field(default=4, ge=1)
    # Reports are compared with normal ones at least this old (a trend, not a same-day burst).
    usage_compare_after: timedelta = timedelta(days=7)
    # Unresponsive customer: touches without any reply, and the re-engagement cadence.
    unresponsive_after_touches: int = Field(default=3, ge=1)
    re_engagement_every: timedelta = timedelta(days=7)
    # Support follow-up: CSAT this long after the ticket is resolved; answers at or below
    # `low_csat_at_most` escalate.
    csat_delay: timedelta = timedelta(days=1)
    low_csat_at_most: int = Field(default=2, ge=1, le=5)
    survey_window: timedelta = timedelta(days=7)
    # Periodic NPS: one reminder, then the answer window closes.
    nps_reminder_after: timedelta = timedelta(days=5)
    nps_window: timedelta = timedelta(days=14)
    # Upgrade follow-up.
    enablement_after: timedelta = timedelta(days=2)
    upgrade_check_in_after: timedelta = timedelta(days=30)
    templates: PlaybookTemplates = Field(default_factory=PlaybookTemplates)


# Bigger accounts are watched more closely: a smaller dip already warrants a call.
_DROP_THRESHOLD = {Segment.ENTERPRISE: 0.2, Segment.MID_MARKET: 0.25, Segment.SMB: 0.3}


def default_playbook_policy(segment: Segment) -> PlaybookPolicy:
    return PlaybookPolicy(usage_drop_threshold=_DROP_THRESHOLD[segment])
