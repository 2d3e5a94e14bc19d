"""Account health: a weighted, explainable 0-100 score.

Five components, each valued 0 (bad) to 1 (good) with a one-line explanation; the score is
the weighted sum. Pure and deterministic, so workflows may call it too.
"""

from __future__ import annotations

from datetime import datetime

from domain.models import HealthBand, HealthComponent, HealthInputs, HealthScore

WEIGHTS: dict[str, float] = {
    "usage": 0.35,
    "support": 0.20,
    "survey": 0.20,
    "engagement": 0.15,
    "contract": 0.10,
}
HEALTHY_FROM = 70
AT_RISK_FROM = 40


def band_for(score: int) -> HealthBand:
    if score >= HEALTHY_FROM:
        return HealthBand.HEALTHY
    return HealthBand.AT_RISK if score >= AT_RISK_FROM else HealthBand.CRITICAL


def _usage(facts: HealthInputs) -> tuple[float, str]:
    adoption = facts.feature_adoption
    if facts.licensed_seats == 0:
        return adoption, f"no seat data; feature adoption {adoption:.0%}"
    utilisation = min(facts.active_users / facts.licensed_seats, 1.0)
    value = 0.6 * utilisation + 0.4 * adoption
    return value, (
        f"{facts.active_users}/{facts.licensed_seats} seats active ({utilisation:.0%}), "
        f"feature adoption {adoption:.0%}"
    )


def _support(facts: HealthInputs) -> tuple[float, str]:
    # Routine tickets cost little (capped); urgent tickets and escalations hurt much more.
    penalty = (
        min(0.1 * facts.open_tickets, 0.3)
        + 0.2 * facts.urgent_tickets
        + 0.4 * facts.open_escalations
    )
    return max(0.0, 1.0 - penalty), (
        f"{facts.open_tickets} open tickets, {facts.urgent_tickets} urgent, "
        f"{facts.open_escalations} escalations"
    )


def _survey(facts: HealthInputs) -> tuple[float, str]:
    parts: list[float] = []
    notes: list[str] = []
    if facts.latest_nps is not None:
        parts.append(facts.latest_nps / 10)
        notes.append(f"NPS answer {facts.latest_nps}/10")
    if facts.latest_csat is not None:
        parts.append((facts.latest_csat - 1) / 4)
        notes.append(f"CSAT {facts.latest_csat}/5")
    if not parts:
        return 0.5, "no survey answers yet (neutral)"
    return sum(parts) / len(parts), ", ".join(notes)


def _engagement(facts: HealthInputs) -> tuple[float, str]:
    days = facts.days_since_last_touchpoint
    if days is None:
        value, note = 0.3, "no touchpoint on record"
    elif days <= 14:
        value, note = 1.0, f"last touchpoint {days} days ago"
    elif days <= 30:
        value, note = 0.7, f"last touchpoint {days} days ago"
    elif days <= 60:
        value, note = 0.4, f"last touchpoint {days} days ago"
    else:
        value, note = 0.1, f"no touchpoint for {days} days"
    if not facts.champion_engaged:
        value, note = value * 0.5, note + "; champion disengaged"
    return value, note


def _contract(facts: HealthInputs) -> tuple[float, str]:
    if facts.payment_overdue:
        return 0.0, "payment overdue"
    if facts.days_to_renewal is not None and facts.days_to_renewal < 0:
        return 0.2, f"contract expired {-facts.days_to_renewal} days ago"
    if facts.auto_renew:
        return 1.0, "auto-renewing, payments current"
    return 0.8, "manual renewal, payments current"


def score_health(facts: HealthInputs, computed_at: datetime) -> HealthScore:
    components: list[HealthComponent] = []
    for name, rule in (
        ("usage", _usage),
        ("support", _support),
        ("survey", _survey),
        ("engagement", _engagement),
        ("contract", _contract),
    ):
        value, explanation = rule(facts)
        weight = WEIGHTS[name]
        components.append(
            HealthComponent(
                name=name,  # type: ignore[arg-type]
                weight=weight,
                value=round(value, 4),
                points=round(weight * value * 100, 2),
                explanation=explanation,
            )
        )
    # Rounded from the points shown, so the explanation always adds up to the score.
    score = max(0, min(100, round(sum(c.points for c in components))))
    return HealthScore(
        account_id=facts.account_id,
        score=score,
        band=band_for(score),
        components=components,
        computed_at=computed_at,
    )
