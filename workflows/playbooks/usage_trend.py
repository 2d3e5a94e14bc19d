"""Usage fluctuation detection: active users against the account's own recent normal.

Pure (the usage playbook's trigger calls it on every usage report). The baseline is the mean
of the latest normal reports at least `compare_after` old, so a burst of reports on one day is not a
trend. A drop is one report below it by more than the segment's threshold; a rise is
`rise_reports` reports in a row above it. Reports inside a drop or rise do not move the
baseline, so one dip is one situation.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from domain.models import Segment
from workflows.playbooks.base import PlaybookPolicy

HISTORY_LIMIT = 24


_DROP_THRESHOLD = {Segment.ENTERPRISE: 0.2, Segment.MID_MARKET: 0.25, Segment.SMB: 0.3}


class UsagePolicy(PlaybookPolicy):
    """The usage-fluctuation playbook's slice: active users against the account's own normal."""

    drop_threshold: float = Field(default=0.25, gt=0, lt=1)
    rise_threshold: float = Field(default=0.25, gt=0)
    rise_reports: int = Field(default=3, ge=1)
    baseline_reports: int = Field(default=4, ge=1)
    # Reports are compared with normal ones at least this old (a trend, not a same-day burst).
    compare_after: timedelta = timedelta(days=7)
    check_in_template: str = "usage_check_in"

    @classmethod
    def segment_defaults(cls, segment: Segment) -> dict[str, Any]:
        # Bigger accounts are watched more closely: a smaller dip already warrants a call.
        return {"drop_threshold": _DROP_THRESHOLD[segment]}


class UsageShift(StrEnum):
    DROP = "drop"
    RISE = "rise"


class UsagePoint(BaseModel):
    at: datetime
    active_users: int


class UsageTrend(BaseModel):
    """Carried in the journey state across continue-as-new."""

    normal: list[UsagePoint] = Field(default_factory=list)
    high_streak: list[UsagePoint] = Field(default_factory=list)
    episode: UsageShift | None = None
    episodes: int = 0


class UsageSignal(BaseModel):
    shift: UsageShift
    situation: str
    baseline: float
    current: int


def observe(
    trend: UsageTrend, at: datetime, active_users: int, policy: UsagePolicy
) -> UsageSignal | None:
    """Fold one report into `trend` (in place); a signal when a new drop or rise begins."""
    point = UsagePoint(at=at, active_users=active_users)
    settled = [p for p in trend.normal if p.at <= at - policy.compare_after]
    if not settled:
        _normal(trend, point)
        return None
    window = settled[-policy.baseline_reports :]
    base = sum(p.active_users for p in window) / len(window)
    if active_users < base * (1 - policy.drop_threshold):
        trend.high_streak.clear()
        return _begin(trend, UsageShift.DROP, base, active_users)
    if active_users >= base * (1 + policy.rise_threshold):
        trend.high_streak.append(point)
        if len(trend.high_streak) < policy.rise_reports:
            return None
        signal = _begin(trend, UsageShift.RISE, base, active_users)
        # The higher level is the new normal from here on.
        trend.normal = trend.high_streak[-HISTORY_LIMIT:]
        trend.high_streak = []
        return signal
    trend.high_streak.clear()
    trend.episode = None
    _normal(trend, point)
    return None


def _normal(trend: UsageTrend, point: UsagePoint) -> None:
    trend.normal = [*trend.normal, point][-HISTORY_LIMIT:]


def _begin(trend: UsageTrend, shift: UsageShift, base: float, current: int) -> UsageSignal | None:
    if trend.episode == shift:
        return None  # still the same dip (or climb): no new situation
    trend.episode = shift
    trend.episodes += 1
    return UsageSignal(
        shift=shift, situation=f"{shift.value}-{trend.episodes}", baseline=base, current=current
    )
