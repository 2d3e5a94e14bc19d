"""Account health: a weighted, explainable 0-100 score.

Five components, each valued 0 (bad) to 1 (good) with a one-line explanation; the score is
the weighted sum with the tier's weights (domain.health_config). Facts that are not supplied
leave a component on its simpler rule, so partial data still scores. Pure and deterministic, so
workflows may call it too.
"""

from __future__ import annotations

from datetime import datetime

from domain.health_config import HealthConfig, health_config_for
from domain.models import HealthBand, HealthComponent, HealthInputs, HealthScore, Segment

# The mid-market configuration is the reference (and the default when no tier is given).
_REFERENCE = health_config_for(Segment.MID_MARKET)
WEIGHTS: dict[str, float] = dict(_REFERENCE.weights)
HEALTHY_FROM = _REFERENCE.healthy_from
AT_RISK_FROM = _REFERENCE.at_risk_from
# Renewals this close without auto-renew are a risk in themselves.
RENEWAL_WATCH_DAYS = 60


def band_for(score: int, config: HealthConfig | None = None) -> HealthBand:
    config = config or _REFERENCE
    if score >= config.healthy_from:
        return HealthBand.HEALTHY
    return HealthBand.AT_RISK if score >= config.at_risk_from else HealthBand.CRITICAL


# A score must be this many points past a band's cut-off before the account's segment follows
# it, so a score hovering on a cut-off does not move the account back and forth.
SEGMENT_MARGIN = 5
_RANK = {HealthBand.CRITICAL: 0, HealthBand.AT_RISK: 1, HealthBand.HEALTHY: 2}


def settled_band(
    score: int,
    previous: HealthBand | None,
    config: HealthConfig | None = None,
    margin: int = SEGMENT_MARGIN,
) -> HealthBand:
    """The band segmentation uses: the score's band once it is `margin` points clear of the
    cut-off it crossed, else the `previous` band."""
    band = band_for(score, config)
    if previous is None or band == previous:
        return band
    if _RANK[band] > _RANK[previous]:
        clear = band_for(max(score - margin, 0), config)
        return band if _RANK[clear] > _RANK[previous] else previous
    clear = band_for(min(score + margin, 100), config)
    return band if _RANK[clear] < _RANK[previous] else previous


def _trend(actual: int | None, baseline: float | None, label: str) -> tuple[float, str] | None:
    """Activity relative to the account's own baseline, capped at 1 (above baseline is fine)."""
    if actual is None or baseline is None:
        return None
    if baseline == 0:
        return (1.0 if actual > 0 else 0.5), f"{label} {actual} (no baseline yet)"
    ratio = actual / baseline
    return min(ratio, 1.0), f"{label} {actual} vs baseline {baseline:g} ({ratio:.0%})"


def _usage(facts: HealthInputs) -> tuple[float, str]:
    adoption = facts.feature_adoption
    if facts.licensed_seats == 0:
        value, note = adoption, f"no seat data; feature adoption {adoption:.0%}"
    else:
        utilisation = min(facts.active_users / facts.licensed_seats, 1.0)
        value = 0.6 * utilisation + 0.4 * adoption
        note = (
            f"{facts.active_users}/{facts.licensed_seats} seats active ({utilisation:.0%}), "
            f"feature adoption {adoption:.0%}"
        )
    trends = [
        t
        for t in (
            _trend(facts.logins_30d, facts.baseline_logins_30d, "logins"),
            _trend(facts.key_actions_30d, facts.baseline_key_actions_30d, "key actions"),
        )
        if t is not None
    ]
    if trends:
        # Breadth (seats, features) and trend against the account's own normal weigh equally.
        trend_value = sum(t[0] for t in trends) / len(trends)
        value = 0.5 * value + 0.5 * trend_value
        note = "; ".join([note, *(t[1] for t in trends)])
    return value, note


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
    if facts.outreach_sent_90d:
        replied = facts.outreach_replied_90d or 0
        rate = replied / facts.outreach_sent_90d
        # A reply to one outreach in three is a well-engaged customer.
        value = 0.6 * value + 0.4 * min(rate / 0.33, 1.0)
        note += f"; replied to {replied}/{facts.outreach_sent_90d} outreach emails"
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
    days = facts.days_to_renewal
    if days is not None and days <= RENEWAL_WATCH_DAYS:
        # Linear from 0.8 at the watch horizon down to 0.4 on the renewal date.
        value = 0.4 + 0.4 * days / RENEWAL_WATCH_DAYS
        return value, f"manual renewal in {days} days, payments current"
    return 0.8, "manual renewal, payments current"


def score_health(
    facts: HealthInputs, computed_at: datetime, config: HealthConfig | None = None
) -> HealthScore:
    """Score `facts` with `config` (default: the reference, mid-market, configuration)."""
    config = config or _REFERENCE
    components: list[HealthComponent] = []
    for name, rule in (
        ("usage", _usage),
        ("support", _support),
        ("survey", _survey),
        ("engagement", _engagement),
        ("contract", _contract),
    ):
        value, explanation = rule(facts)
        weight = config.weights[name]
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
        band=band_for(score, config),
        components=components,
        computed_at=computed_at,
    )
