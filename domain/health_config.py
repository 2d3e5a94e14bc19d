"""Per-tier health scoring configuration: component weights and band cut-offs.

Enterprise renewals hinge on relationships and support experience, SMB renewals on whether the
product is used, so the weights differ; mid-market keeps the original balanced weights.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from domain.models import Segment

COMPONENTS = ("usage", "support", "survey", "engagement", "contract")


class HealthConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    weights: dict[str, float]
    # Band cut-offs: score >= healthy_from is healthy, >= at_risk_from at risk, else critical.
    healthy_from: int = Field(default=70, ge=1, le=100)
    at_risk_from: int = Field(default=40, ge=0, le=99)

    @model_validator(mode="after")
    def _consistent(self) -> HealthConfig:
        if tuple(self.weights) != COMPONENTS:
            raise ValueError(f"weights: need exactly {', '.join(COMPONENTS)} in that order")
        if any(w < 0 for w in self.weights.values()):
            raise ValueError("weights: must be >= 0")
        if abs(sum(self.weights.values()) - 1.0) > 1e-9:
            raise ValueError("weights: must add up to 1")
        if self.at_risk_from >= self.healthy_from:
            raise ValueError("at_risk_from must be below healthy_from")
        return self


HEALTH_CONFIG: dict[Segment, HealthConfig] = {
    Segment.ENTERPRISE: HealthConfig(
        weights={
            "usage": 0.30,
            "support": 0.25,
            "survey": 0.20,
            "engagement": 0.15,
            "contract": 0.10,
        },
        healthy_from=75,
        at_risk_from=50,
    ),
    Segment.MID_MARKET: HealthConfig(
        weights={
            "usage": 0.35,
            "support": 0.20,
            "survey": 0.20,
            "engagement": 0.15,
            "contract": 0.10,
        },
    ),
    Segment.SMB: HealthConfig(
        weights={
            "usage": 0.45,
            "support": 0.15,
            "survey": 0.15,
            "engagement": 0.10,
            "contract": 0.15,
        },
    ),
}


def health_config_for(tier: Segment) -> HealthConfig:
    return HEALTH_CONFIG[tier]
