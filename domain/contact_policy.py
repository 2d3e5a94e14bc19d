"""How often and when automated email may reach a customer contact (the contact governor's rules).

`next_allowed_time` is pure given a tzinfo: activities resolve the contact's IANA zone (that reads
tz data from disk) and pass it in.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta, tzinfo

from pydantic import BaseModel, ConfigDict, Field, model_validator


class ContactPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # Local quiet window; start > end wraps midnight, start == end disables it.
    quiet_start: time = time(20, 0)
    quiet_end: time = time(8, 0)
    quiet_weekends: bool = True
    # Monday is 0 (datetime.weekday()).
    weekend_days: frozenset[int] = frozenset({5, 6})
    max_emails: int = Field(default=2, ge=1)
    per: timedelta = timedelta(days=7)
    # Internal notifications are not customer outreach; they bypass quiet hours and the cap.
    exempt_categories: frozenset[str] = frozenset({"csm_alert", "handoff"})

    @model_validator(mode="after")
    def _sane(self) -> ContactPolicy:
        if not self.weekend_days <= set(range(7)):
            raise ValueError("weekend_days: weekday numbers 0 (Monday) .. 6 (Sunday)")
        if len(self.weekend_days) == 7 and self.quiet_weekends:
            raise ValueError("weekend_days: a week with no allowed day never sends")
        if self.per <= timedelta(0):
            raise ValueError("per: must be positive")
        return self

    def is_quiet(self, local: datetime) -> bool:
        """True when `local` (a wall-clock time in the contact's zone) falls in quiet time."""
        if self.quiet_weekends and local.weekday() in self.weekend_days:
            return True
        t = local.timetz().replace(tzinfo=None)
        if self.quiet_start == self.quiet_end:
            return False
        if self.quiet_start > self.quiet_end:
            return t >= self.quiet_start or t < self.quiet_end
        return self.quiet_start <= t < self.quiet_end


def next_allowed_time(now: datetime, zone: tzinfo, policy: ContactPolicy) -> datetime | None:
    """None when `now` is outside quiet time, else the first allowed instant after it (UTC).

    Candidates are built as local wall-clock times and normalised through UTC, so DST changes
    are honoured (08:00 local is 12:00 UTC in New York summer, 13:00 in winter) and a quiet end
    that falls into a spring-forward gap lands on the first real instant after it.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if not policy.is_quiet(now.astimezone(zone)):
        return None
    start_day = now.astimezone(zone).date()
    for offset in range(0, 9):
        day = start_day + timedelta(days=offset)
        for at in sorted({time(0, 0), policy.quiet_end}):
            candidate = datetime.combine(day, at).replace(tzinfo=zone).astimezone(UTC)
            if candidate > now and not policy.is_quiet(candidate.astimezone(zone)):
                return candidate
    raise ValueError("contact policy leaves no allowed time within a week")
