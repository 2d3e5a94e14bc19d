"""Dynamic segmentation: ARR tier x health band x lifecycle phase.

Pure and deterministic (workflows may call it). The key format is documented in
docs/contracts.md ("Issue 6 activities"): static mode keeps today's ARR-tier values, dynamic mode
yields `<tier>-<band>-<phase>` (e.g. `smb-healthy-adoption`) or `<tier>-churned`.
"""

from __future__ import annotations

from domain.models import (
    Account,
    HealthBand,
    LifecycleStage,
    Segment,
    SegmentAssignment,
    SegmentationMode,
)

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


def _label(value: HealthBand | Segment) -> str:
    """How a key spells a band or a tier: its value, hyphenated (`at-risk`, `mid-market`)."""
    return value.value.replace("_", "-")


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
    band_label = "unscored" if health_band is None else _label(health_band)
    if stage == LifecycleStage.AT_RISK and band_label in ("healthy", "unscored"):
        band_label = "at-risk"
    phase = _PHASE[stage]
    if mode == SegmentationMode.STATIC:
        key = tier.value
    elif phase == "churned":
        key = f"{_label(tier)}-churned"
    else:
        key = f"{_label(tier)}-{band_label}-{phase}"
    return SegmentAssignment(
        key=key,
        mode=mode,
        tier=tier,
        band=band_label,  # type: ignore[arg-type]
        phase=phase,  # type: ignore[arg-type]
    )
