"""Survey score ranges and the standard NPS / CSAT classifications."""

from __future__ import annotations

from domain.models import SurveyCategory, SurveyKind

SCORE_RANGES: dict[SurveyKind, tuple[int, int]] = {
    SurveyKind.NPS: (0, 10),
    SurveyKind.CSAT: (1, 5),
}


def score_in_range(kind: SurveyKind, score: int) -> bool:
    low, high = SCORE_RANGES[kind]
    return low <= score <= high


def classify(kind: SurveyKind, score: int) -> SurveyCategory:
    """NPS: 9-10 promoter, 7-8 passive, 0-6 detractor. CSAT: 4-5 satisfied, 3 neutral, 1-2
    dissatisfied."""
    if not score_in_range(kind, score):
        low, high = SCORE_RANGES[kind]
        raise ValueError(f"{kind.value} score must be within {low}-{high}, got {score}")
    if kind == SurveyKind.NPS:
        if score >= 9:
            return SurveyCategory.PROMOTER
        return SurveyCategory.PASSIVE if score >= 7 else SurveyCategory.DETRACTOR
    if score >= 4:
        return SurveyCategory.SATISFIED
    return SurveyCategory.NEUTRAL if score == 3 else SurveyCategory.DISSATISFIED


def nps(scores: list[int]) -> float | None:
    """Net Promoter Score (-100..100) of a set of 0-10 answers; None when there are none."""
    if not scores:
        return None
    promoters = sum(1 for s in scores if s >= 9)
    detractors = sum(1 for s in scores if s <= 6)
    return 100.0 * (promoters - detractors) / len(scores)
