"""Dynamic segmentation: ARR tier x health band x lifecycle phase, and the cadences per segment.

Pure and deterministic (workflows may call it). The key format is documented in
docs/contracts.md ("Issue 6 activities"): static mode keeps today's ARR-tier values, dynamic mode
yields `<tier>-<band>-<phase>` (e.g. `smb-healthy-adoption`) or `<tier>-churned`.
"""

from __future__ import annotations

from datetime import timedelta

from domain.models import (
    Account,
    HealthBand,
    LifecycleStage,
    PlaybookKind,
    Segment,
    SegmentAssignment,
    SegmentationMode,
    TaskPriority,
)
from domain.segments import SegmentPlaybookConfig, SurveyCadence, default_config

ENV_VAR = "CSFLOW_SEGMENTATION"

_PHASE: dict[LifecycleStage, str] = {
    LifecycleStage.TRIAL: "onboarding",
    LifecycleStage.REQUIREMENTS: "onboarding",
    LifecycleStage.ONBOARDING: "onboarding",
    LifecycleStage.ADOPTION: "adoption",
    LifecycleStage.EXPANSION: "adoption",
    LifecycleStage.AT_RISK: "adoption",
    LifecycleStage.RENEWAL: "renewal",
    LifecycleStage.CHURNED: "churned",
}
_BAND_LABEL = {
    HealthBand.HEALTHY: "healthy",
    HealthBand.AT_RISK: "at-risk",
    HealthBand.CRITICAL: "critical",
}
_TIER_LABEL = {
    Segment.ENTERPRISE: "enterprise",
    Segment.MID_MARKET: "mid-market",
    Segment.SMB: "smb",
}


def parse_mode(value: str | None) -> SegmentationMode:
    """`CSFLOW_SEGMENTATION` value to a mode; unset means dynamic."""
    if value is None or not value.strip():
        return SegmentationMode.DYNAMIC
    try:
        return SegmentationMode(value.strip().lower())
    except ValueError:
        raise ValueError(f"{ENV_VAR} must be 'static' or 'dynamic', got {value!r}") from None


def segment_for(
    account: Account,
    health_band: HealthBand | None,
    stage: LifecycleStage,
    mode: SegmentationMode,
) -> SegmentAssignment:
    """The account's segment. The tier is the account's ARR band (its stored segment, which
    `AccountUpsert` derives from ARR unless pinned); the `at_risk` stage makes the band at least
    at-risk, because a CSM flagged it even if the numbers have not caught up."""
    tier = account.segment
    band_label = "unscored" if health_band is None else _BAND_LABEL[health_band]
    if stage == LifecycleStage.AT_RISK and band_label in ("healthy", "unscored"):
        band_label = "at-risk"
    phase = _PHASE[stage]
    if mode == SegmentationMode.STATIC:
        key = tier.value
    elif phase == "churned":
        key = f"{_TIER_LABEL[tier]}-churned"
    else:
        key = f"{_TIER_LABEL[tier]}-{band_label}-{phase}"
    return SegmentAssignment(
        key=key,
        mode=mode,
        tier=tier,
        band=band_label,  # type: ignore[arg-type]
        phase=phase,  # type: ignore[arg-type]
    )


# NPS cadence by tier for accounts that are doing well; at-risk accounts are asked more often
# (a falling score should be caught early), critical ones not at all (the CSM is talking to them).
_HEALTHY_NPS_EVERY = {
    Segment.ENTERPRISE: timedelta(days=60),
    Segment.MID_MARKET: timedelta(days=75),
    Segment.SMB: timedelta(days=90),
}
_AT_RISK_NPS_EVERY = timedelta(days=45)


def playbook_config_for(assignment: SegmentAssignment) -> SegmentPlaybookConfig:
    """The tier's shipped playbook timings, adjusted for health band and phase.

    Static mode returns the tier's `default_config` unchanged."""
    base = default_config(assignment.tier)
    if assignment.mode == SegmentationMode.STATIC:
        return base
    if assignment.phase == "churned":
        return base.model_copy(
            update={"playbooks": [PlaybookKind.WIN_BACK], "csm_task_priority": TaskPriority.LOW}
        )
    playbooks: list[PlaybookKind] = []
    if assignment.phase == "onboarding":
        playbooks.append(PlaybookKind.ONBOARDING)
    if assignment.phase == "renewal":
        playbooks.append(PlaybookKind.RENEWAL)
    priority = TaskPriority.NORMAL
    nps_every = _HEALTHY_NPS_EVERY[assignment.tier]
    if assignment.band in ("healthy", "unscored"):
        playbooks.append(PlaybookKind.NPS_SURVEY)
        if assignment.phase == "adoption" and assignment.band == "healthy":
            playbooks.append(PlaybookKind.EXPANSION)
    elif assignment.band == "at-risk":
        playbooks += [
            PlaybookKind.RISK_MITIGATION,
            PlaybookKind.ADOPTION_NUDGE,
            PlaybookKind.NPS_SURVEY,
        ]
        priority = TaskPriority.HIGH
        nps_every = _AT_RISK_NPS_EVERY
    else:  # critical
        playbooks.append(PlaybookKind.RISK_MITIGATION)
        if assignment.tier != Segment.SMB:
            playbooks.append(PlaybookKind.EXECUTIVE_OUTREACH)
        priority = TaskPriority.URGENT
    surveys: SurveyCadence = base.surveys.model_copy(update={"nps_every": nps_every})
    return base.model_copy(
        update={"playbooks": playbooks, "csm_task_priority": priority, "surveys": surveys}
    )
