"""When does a Temporal Schedule fire? Evaluation of `temporal.api.schedule.v1.ScheduleSpec`.

Pure Python (stdlib plus the generated protobuf classes). Two entry points:

* `canonical_spec` rewrites a spec into the form the server stores and returns from
  DescribeSchedule: string `calendar`s and `cron_string`s become `structured_calendar`s (or
  `interval`s for `@every`), `exclude_calendar` becomes `exclude_structured_calendar`.
* `compile_spec` validates a spec and returns a `CompiledSpec` that answers "when next?".

Semantics follow the doc comments of `temporal/api/schedule/v1/message.proto`:

* action times are the union of every calendar and interval, minus any time that matches an
  exclusion, restricted to the inclusive window [start_time, end_time];
* calendars match the wall clock in `timezone_name` literally: a wall time that does not exist
  (DST gap) never fires, one that happens twice (DST overlap) fires at both instants (pass
  `ambiguous="first"` to `compile_spec` to fire only at the first);
* cron strings AND day-of-month with day-of-week (the classic cron OR rule is not implemented),
  6 fields means a trailing year, 7 fields a leading second, and "#" starts a comment.

One deliberate difference from the proto comment: an empty Range list in a
StructuredCalendarSpec takes the CalendarSpec default (second, minute and hour 0, every other field
"every value") rather than matching nothing. SDKs always send explicit ranges, so this only changes
hand-built protos, where "match nothing" is never what was meant.

The search steps field by field (year, month, day, hour, minute, second) over wall-clock values,
one stretch of constant UTC offset at a time, so sparse specs (Feb 29, one day a year) are found
in a few dozen steps. It looks at most `SEARCH_HORIZON_YEARS` ahead.
"""

from __future__ import annotations

import bisect
import calendar as _calendar_module
import functools
import hashlib
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from temporalio.api.schedule.v1.message_pb2 import (
    CalendarSpec,
    IntervalSpec,
    Range,
    ScheduleSpec,
    StructuredCalendarSpec,
)

__all__ = [
    "SEARCH_HORIZON_YEARS",
    "AmbiguousPolicy",
    "CompiledSpec",
    "ScheduleSpecError",
    "canonical_spec",
    "compile_spec",
]

AmbiguousPolicy = Literal["both", "first"]

# How far ahead next_time looks before concluding that a spec has no more times.
SEARCH_HORIZON_YEARS = 100
# Safety valve for exclusions that chop the timeline into very many tiny pieces.
_MAX_EXCLUSION_SKIPS = 200_000
# Searches stop here so that datetime arithmetic never reaches year 10000.
_LAST_SEARCH_YEAR = 9990
# "*/n" in the year field needs a first year; the Unix epoch is as good a base as any.
_YEAR_STEP_BASE = 1970
# Offset-change probing step: no real zone changes offset twice within a day.
_PROBE_STEP = 86_400

_EPOCH = datetime(1970, 1, 1)
_FIRST_SEARCH_EPOCH = (date(2, 1, 1).toordinal() - date(1970, 1, 1).toordinal()) * 86_400
_LAST_SEARCH_EPOCH = (
    date(_LAST_SEARCH_YEAR, 1, 1).toordinal() - date(1970, 1, 1).toordinal()
) * 86_400
_EPOCH_UTC = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_ONE_SECOND = timedelta(seconds=1)
_ONE_MICROSECOND = timedelta(microseconds=1)


class ScheduleSpecError(ValueError):
    """An invalid ScheduleSpec; the message starts with the path of the offending field."""


# --------------------------------------------------------------------------------------------
# Calendar fields
# --------------------------------------------------------------------------------------------

_MONTH_NAMES = (
    "january february march april may june july august september october november december"
).split()
_DAY_NAMES = "sunday monday tuesday wednesday thursday friday saturday".split()


def _name_table(names: Sequence[str], first: int) -> dict[str, int]:
    # Full names and three-letter abbreviations, matched case-insensitively.
    table: dict[str, int] = {}
    for offset, name in enumerate(names):
        table[name] = first + offset
        table[name[:3]] = first + offset
    return table


@dataclass(frozen=True)
class _FieldInfo:
    name: str
    lo: int
    hi: int
    default: str  # CalendarSpec default expression for an empty string
    names: dict[str, int] = field(default_factory=dict)


_SECOND = _FieldInfo("second", 0, 59, "0")
_MINUTE = _FieldInfo("minute", 0, 59, "0")
_HOUR = _FieldInfo("hour", 0, 23, "0")
_DAY_OF_MONTH = _FieldInfo("day_of_month", 1, 31, "*")
_MONTH = _FieldInfo("month", 1, 12, "*", _name_table(_MONTH_NAMES, 1))
_YEAR = _FieldInfo("year", 1, 9999, "*")
# 7 is accepted as Sunday (as the proto allows for CalendarSpec); matching works modulo 7.
_DAY_OF_WEEK = _FieldInfo("day_of_week", 0, 7, "*", _name_table(_DAY_NAMES, 0))

_FIELDS: tuple[_FieldInfo, ...] = (
    _SECOND,
    _MINUTE,
    _HOUR,
    _DAY_OF_MONTH,
    _MONTH,
    _YEAR,
    _DAY_OF_WEEK,
)


class _ValueSet:
    """Allowed values of one bounded field, with O(1) "next allowed / next disallowed" lookups."""

    __slots__ = ("lo", "hi", "members", "full", "_next_member", "_next_miss")

    def __init__(self, lo: int, hi: int, members: Iterable[int]) -> None:
        self.lo = lo
        self.hi = hi
        self.members = frozenset(members)
        self.full = all(v in self.members for v in range(lo, hi + 1))
        # Tables indexed by value - lo; built backwards so each entry knows what comes next.
        next_member: list[int | None] = [None] * (hi - lo + 1)
        next_miss: list[int | None] = [None] * (hi - lo + 1)
        upcoming_member: int | None = None
        upcoming_miss: int | None = None
        for value in range(hi, lo - 1, -1):
            if value in self.members:
                upcoming_member = value
            else:
                upcoming_miss = value
            next_member[value - lo] = upcoming_member
            next_miss[value - lo] = upcoming_miss
        self._next_member = tuple(next_member)
        self._next_miss = tuple(next_miss)

    def next_member(self, value: int) -> int | None:
        """Smallest allowed value >= value, or None."""
        if value > self.hi:
            return None
        return self._next_member[max(value, self.lo) - self.lo]

    def next_miss(self, value: int) -> int | None:
        """Smallest disallowed value >= value, or None."""
        if value > self.hi:
            return None
        return self._next_miss[max(value, self.lo) - self.lo]


class _YearSet:
    """Allowed years: a union of (start, end, step) ranges; no ranges means every year."""

    __slots__ = ("ranges",)

    def __init__(self, ranges: Sequence[tuple[int, int, int]]) -> None:
        self.ranges = tuple(ranges)

    @property
    def full(self) -> bool:
        return not self.ranges

    def contains(self, year: int) -> bool:
        if not self.ranges:
            return True
        return any(
            start <= year <= end and (year - start) % step == 0 for start, end, step in self.ranges
        )

    def next_member(self, year: int) -> int | None:
        if not self.ranges:
            return year
        best: int | None = None
        for start, end, step in self.ranges:
            if year <= start:
                candidate = start
            else:
                candidate = start + -(-(year - start) // step) * step  # round up to the grid
            if candidate <= end and (best is None or candidate < best):
                best = candidate
        return best


class _Calendar:
    """A compiled StructuredCalendarSpec, matched against naive wall-clock datetimes."""

    def __init__(
        self,
        *,
        second: _ValueSet,
        minute: _ValueSet,
        hour: _ValueSet,
        day_of_month: _ValueSet,
        month: _ValueSet,
        year: _YearSet,
        day_of_week: _ValueSet,
    ) -> None:
        self.second = second
        self.minute = minute
        self.hour = hour
        self.day_of_month = day_of_month
        self.month = month
        self.year = year
        self.day_of_week = day_of_week
        self._any_day = day_of_month.full and day_of_week.full

    def day_matches(self, day: date) -> bool:
        return (
            self.year.contains(day.year)
            and day.month in self.month.members
            and day.day in self.day_of_month.members
            and day.isoweekday() % 7 in self.day_of_week.members
        )

    def matches(self, wall: datetime) -> bool:
        return (
            wall.second in self.second.members
            and wall.minute in self.minute.members
            and wall.hour in self.hour.members
            and self.day_matches(wall.date())
        )

    def _next_day(self, year: int, month: int, day: int) -> int | None:
        """First day >= `day` in the month whose day-of-month and day-of-week both match."""
        days_in_month = _calendar_module.monthrange(year, month)[1]
        if day > days_in_month:
            return None
        if self._any_day:
            return day
        weekday = date(year, month, day).isoweekday() % 7  # 0 = Sunday, as in the proto
        for candidate in range(day, days_in_month + 1):
            if candidate in self.day_of_month.members and weekday in self.day_of_week.members:
                return candidate
            weekday = (weekday + 1) % 7
        return None

    def next_match(self, start: datetime, max_year: int) -> datetime | None:
        """First wall time >= start (whole seconds) matching every field, up to max_year."""
        y, mo, d = start.year, start.month, start.day
        h, mi, s = start.hour, start.minute, start.second
        # Each step either accepts the current value of a field or moves it forward and resets
        # all smaller fields; overflowing values (month 13, day 32, hour 24, ...) are "no match"
        # for the lookup, which carries into the next larger field on the following pass.
        while True:
            next_year = self.year.next_member(y)
            if next_year is None or next_year > max_year:
                return None
            if next_year != y:
                y, mo, d, h, mi, s = next_year, 1, 1, 0, 0, 0
            next_month = self.month.next_member(mo)
            if next_month is None:
                y, mo, d, h, mi, s = y + 1, 1, 1, 0, 0, 0
                continue
            if next_month != mo:
                mo, d, h, mi, s = next_month, 1, 0, 0, 0
            next_day = self._next_day(y, mo, d)
            if next_day is None:
                mo, d, h, mi, s = mo + 1, 1, 0, 0, 0
                continue
            if next_day != d:
                d, h, mi, s = next_day, 0, 0, 0
            next_hour = self.hour.next_member(h)
            if next_hour is None:
                d, h, mi, s = d + 1, 0, 0, 0
                continue
            if next_hour != h:
                h, mi, s = next_hour, 0, 0
            next_minute = self.minute.next_member(mi)
            if next_minute is None:
                h, mi, s = h + 1, 0, 0
                continue
            if next_minute != mi:
                mi, s = next_minute, 0
            next_second = self.second.next_member(s)
            if next_second is None:
                mi, s = mi + 1, 0
                continue
            return datetime(y, mo, d, h, mi, next_second)

    def next_miss(self, wall: datetime, max_year: int) -> datetime | None:
        """First wall time after `wall` (which matches) that does not match, up to max_year.

        A time fails to match as soon as any one field fails, so the answer is the earliest of
        the per-field "first failure" times; each is cheap because a field's value only changes
        in a fixed pattern. Used to jump over a whole excluded stretch in one step.
        """
        candidates: list[datetime] = []
        minute_start = wall.replace(second=0)
        hour_start = minute_start.replace(minute=0)
        day_start = hour_start.replace(hour=0)

        miss = self.second.next_miss(wall.second + 1)
        if miss is not None:
            candidates.append(minute_start.replace(second=miss))
        else:
            miss = self.second.next_miss(0)
            if miss is not None:
                candidates.append(minute_start + timedelta(minutes=1, seconds=miss))

        miss = self.minute.next_miss(wall.minute + 1)
        if miss is not None:
            candidates.append(hour_start.replace(minute=miss))
        else:
            miss = self.minute.next_miss(0)
            if miss is not None:
                candidates.append(hour_start + timedelta(hours=1, minutes=miss))

        miss = self.hour.next_miss(wall.hour + 1)
        if miss is not None:
            candidates.append(day_start.replace(hour=miss))
        else:
            miss = self.hour.next_miss(0)
            if miss is not None:
                candidates.append(day_start + timedelta(days=1, hours=miss))

        missing_day = self._next_missing_day(wall.date(), max_year)
        if missing_day is not None:
            candidates.append(datetime.combine(missing_day, time()))
        return min(candidates) if candidates else None

    def _next_missing_day(self, day: date, max_year: int) -> date | None:
        if self.month.full and self.day_of_month.full and self.day_of_week.full:
            # Only the year can fail: whole years are in or out.
            if self.year.full:
                return None
            for year in range(day.year + 1, max_year + 1):
                if not self.year.contains(year):
                    return date(year, 1, 1)
            return None
        # Some month, day or weekday is excluded, so a miss comes within about a year.
        candidate = day + timedelta(days=1)
        while candidate.year <= max_year:
            if not self.day_matches(candidate):
                return candidate
            candidate += timedelta(days=1)
        return None


# --------------------------------------------------------------------------------------------
# Validation and compilation of structured calendars
# --------------------------------------------------------------------------------------------


def _range_bounds(rng: Range, info: _FieldInfo, where: str) -> tuple[int, int, int]:
    """(start, end, step) of a proto Range with its documented defaults applied, validated."""
    if rng.step < 0:
        raise ScheduleSpecError(f"{where}: step {rng.step} must not be negative")
    start = rng.start
    end = rng.end if rng.end >= rng.start else rng.start  # end < start means a single value
    step = rng.step or 1
    for value in (start, end):
        if not info.lo <= value <= info.hi:
            raise ScheduleSpecError(f"{where}: value {value} out of range {info.lo}-{info.hi}")
    return start, end, step


def _default_values(info: _FieldInfo) -> range:
    if info.default == "0":
        return range(0, 1)
    return range(info.lo, info.hi + 1)


def _compile_value_set(
    ranges: Sequence[Range], info: _FieldInfo, where: str, modulo: int | None = None
) -> _ValueSet:
    values: set[int] = set()
    if not ranges:
        values.update(_default_values(info))
    for rng in ranges:
        start, end, step = _range_bounds(rng, info, where)
        values.update(range(start, end + 1, step))
    if modulo is not None:
        # Day of week: 7 is another spelling of Sunday (0).
        values = {v % modulo for v in values}
        return _ValueSet(0, modulo - 1, values)
    return _ValueSet(info.lo, info.hi, values)


def _compile_structured(spec: StructuredCalendarSpec, where: str) -> _Calendar:
    years = [_range_bounds(rng, _YEAR, f"{where}.year") for rng in spec.year]
    return _Calendar(
        second=_compile_value_set(spec.second, _SECOND, f"{where}.second"),
        minute=_compile_value_set(spec.minute, _MINUTE, f"{where}.minute"),
        hour=_compile_value_set(spec.hour, _HOUR, f"{where}.hour"),
        day_of_month=_compile_value_set(spec.day_of_month, _DAY_OF_MONTH, f"{where}.day_of_month"),
        month=_compile_value_set(spec.month, _MONTH, f"{where}.month"),
        year=_YearSet(years),
        day_of_week=_compile_value_set(
            spec.day_of_week, _DAY_OF_WEEK, f"{where}.day_of_week", modulo=7
        ),
    )


# --------------------------------------------------------------------------------------------
# CalendarSpec strings and cron strings
# --------------------------------------------------------------------------------------------

_INT_RE = re.compile(r"\d+")


def _parse_value(token: str, info: _FieldInfo, where: str) -> int:
    text = token.strip()
    if _INT_RE.fullmatch(text):
        value = int(text)
    elif text.lower() in info.names:
        value = info.names[text.lower()]
    else:
        upper = text.upper()
        if "#" in text:
            raise ScheduleSpecError(
                f"{where}: {text!r}: 'day#n' (nth weekday of the month) is not supported"
            )
        if (info is _DAY_OF_MONTH or info is _DAY_OF_WEEK) and ("L" in upper or "W" in upper):
            raise ScheduleSpecError(
                f"{where}: {text!r}: 'L' (last) and 'W' (nearest weekday) are not supported;"
                " list the concrete days instead"
            )
        raise ScheduleSpecError(f"{where}: invalid value {text!r}")
    if not info.lo <= value <= info.hi:
        raise ScheduleSpecError(f"{where}: value {value} out of range {info.lo}-{info.hi}")
    return value


def _make_range(start: int, end: int, step: int) -> Range:
    # Fully explicit (end == start for a single value, step 1 by default), so the stored form
    # reads the same whichever client renders it.
    return Range(start=start, end=end, step=step)


def _parse_field(expression: str, info: _FieldInfo, where: str) -> list[Range]:
    """CalendarSpec field syntax -> Ranges: '*', 'x', 'x-z', 'x/y', 'x-z/y', '*/y', 'a,b,...'.

    An empty year list means every year (the year field has no natural bounds).
    """
    text = expression.strip() or info.default
    ranges: list[Range] = []
    every_year = False
    for raw_item in text.split(","):
        item = raw_item.strip()
        if not item:
            raise ScheduleSpecError(f"{where}: empty list item in {expression!r}")
        base, has_step, step_text = item.partition("/")
        step = 1
        if has_step:
            if not _INT_RE.fullmatch(step_text.strip()) or int(step_text) < 1:
                raise ScheduleSpecError(
                    f"{where}: step {step_text.strip()!r} must be a positive integer"
                )
            step = int(step_text)
        base = base.strip()
        if base in ("*", "?"):  # '?' is the Quartz-style "no specific value"
            if info is _YEAR:
                if not has_step:
                    every_year = True
                    continue
                start, end = _YEAR_STEP_BASE, info.hi
            else:
                start, end = info.lo, (6 if info is _DAY_OF_WEEK else info.hi)
        elif "-" in base:
            first, _, last = base.partition("-")
            start = _parse_value(first, info, where)
            end = _parse_value(last, info, where)
            if end < start:
                raise ScheduleSpecError(f"{where}: range {base!r} ends before it starts")
        else:
            start = _parse_value(base, info, where)
            # 'x/y' means x, x+y, ... up to the field's maximum.
            end = max(start, 6 if info is _DAY_OF_WEEK else info.hi) if has_step else start
        ranges.append(_make_range(start, end, step))
    return [] if every_year else ranges


def _calendar_to_structured(spec: CalendarSpec, where: str) -> StructuredCalendarSpec:
    out = StructuredCalendarSpec(comment=spec.comment)
    for info in _FIELDS:
        ranges = _parse_field(getattr(spec, info.name), info, f"{where}.{info.name}")
        getattr(out, info.name).extend(ranges)
    return out


_PREDEFINED = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_TZ_PREFIX_RE = re.compile(r"(?:CRON_TZ|TZ)=(\S*)\s*")
_DURATION_RE = re.compile(r"(?:\d+[smhd])+")
_DURATION_PART_RE = re.compile(r"(\d+)([smhd])")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86_400}


@dataclass(frozen=True)
class _CronParse:
    calendar: CalendarSpec | None
    interval: IntervalSpec | None
    timezone_name: str | None


def _parse_cron_duration(text: str, where: str) -> int:
    cleaned = text.strip().lower()
    if not _DURATION_RE.fullmatch(cleaned):
        raise ScheduleSpecError(
            f"{where}: invalid duration {text.strip()!r} (use an integer with s, m, h or d)"
        )
    return sum(
        int(amount) * _UNIT_SECONDS[unit] for amount, unit in _DURATION_PART_RE.findall(cleaned)
    )


def _split_cron_comment(text: str, where: str) -> tuple[str, str]:
    index = text.find("#")
    if index < 0:
        return text, ""
    # '#' glued to a value and followed by a digit is Quartz's "nth weekday" ("FRI#2"), which
    # would otherwise silently become a comment and change the meaning.
    if index > 0 and not text[index - 1].isspace() and text[index + 1 : index + 2].isdigit():
        token = text[:index].split()[-1] + "#" + text[index + 1 :].split()[0]
        raise ScheduleSpecError(
            f"{where}: {token!r}: 'day#n' (nth weekday of the month) is not supported;"
            " '#' starts a comment"
        )
    return text[:index].rstrip(), text[index + 1 :].strip()


def _parse_cron(text: str, where: str) -> _CronParse:
    rest = text.strip()
    tz_name: str | None = None
    prefix = _TZ_PREFIX_RE.match(rest)
    if prefix:
        tz_name = prefix.group(1)
        if not tz_name:
            raise ScheduleSpecError(f"{where}: empty time zone name in {text!r}")
        rest = rest[prefix.end() :]
    rest, comment = _split_cron_comment(rest, where)
    if not rest:
        raise ScheduleSpecError(f"{where}: empty cron expression")

    if rest.startswith("@"):
        word, *arguments = rest.split(None, 1)
        word = word.lower()
        argument = arguments[0].strip() if arguments else ""
        if word == "@every":
            every_text, has_phase, phase_text = argument.partition("/")
            every = _parse_cron_duration(every_text, where)
            if every < 1:
                raise ScheduleSpecError(f"{where}: @every interval must be at least 1s")
            phase = _parse_cron_duration(phase_text, where) if has_phase else 0
            interval = IntervalSpec()
            interval.interval.seconds = every
            if phase:
                interval.phase.seconds = phase
            return _CronParse(calendar=None, interval=interval, timezone_name=tz_name)
        if word not in _PREDEFINED:
            raise ScheduleSpecError(f"{where}: unknown shorthand {word!r}")
        if argument:
            raise ScheduleSpecError(f"{where}: unexpected text after {word}: {argument!r}")
        rest = _PREDEFINED[word]

    parts = rest.split()
    if len(parts) == 5:
        second, year = "0", "*"
        minute, hour, day_of_month, month, day_of_week = parts
    elif len(parts) == 6:
        second = "0"
        minute, hour, day_of_month, month, day_of_week, year = parts
    elif len(parts) == 7:
        second, minute, hour, day_of_month, month, day_of_week, year = parts
    else:
        raise ScheduleSpecError(f"{where}: expected 5, 6 or 7 fields, got {len(parts)}")
    calendar = CalendarSpec(
        second=second,
        minute=minute,
        hour=hour,
        day_of_month=day_of_month,
        month=month,
        year=year,
        day_of_week=day_of_week,
        comment=comment,
    )
    return _CronParse(calendar=calendar, interval=None, timezone_name=tz_name)


def canonical_spec(spec: ScheduleSpec) -> ScheduleSpec:
    """Return a copy in the form the server stores and returns from DescribeSchedule.

    `calendar` and `cron_string` entries are appended to `structured_calendar` (after the
    existing ones, whose values are kept exactly as sent), `@every` cron strings to `interval`,
    `exclude_calendar` to `exclude_structured_calendar`; a CRON_TZ=/TZ= prefix becomes
    `timezone_name`. The string fields are cleared. Raises ScheduleSpecError for unparsable
    strings; full validation is done by `compile_spec`.
    """
    timezone_name = spec.timezone_name
    structured: list[StructuredCalendarSpec] = [
        _calendar_to_structured(cal, f"spec.calendar[{i}]") for i, cal in enumerate(spec.calendar)
    ]
    intervals: list[IntervalSpec] = []
    for i, text in enumerate(spec.cron_string):
        where = f"spec.cron_string[{i}]"
        parsed = _parse_cron(text, where)
        if parsed.timezone_name is not None:
            # The proto forbids a timezone_name alongside a cron TZ; an identical one is harmless.
            if timezone_name and timezone_name != parsed.timezone_name:
                raise ScheduleSpecError(
                    f"{where}: time zone {parsed.timezone_name!r} conflicts with"
                    f" timezone_name {timezone_name!r}"
                )
            timezone_name = parsed.timezone_name
        if parsed.calendar is not None:
            structured.append(_calendar_to_structured(parsed.calendar, where))
        if parsed.interval is not None:
            intervals.append(parsed.interval)
    excluded = [
        _calendar_to_structured(cal, f"spec.exclude_calendar[{i}]")
        for i, cal in enumerate(spec.exclude_calendar)
    ]

    out = ScheduleSpec()
    out.CopyFrom(spec)
    out.ClearField("calendar")
    out.ClearField("cron_string")
    out.ClearField("exclude_calendar")
    out.structured_calendar.extend(structured)
    out.interval.extend(intervals)
    out.exclude_structured_calendar.extend(excluded)
    out.timezone_name = timezone_name
    return out


# --------------------------------------------------------------------------------------------
# Time zones: UTC offsets and where they change
# --------------------------------------------------------------------------------------------


def _utc_epoch(year: int, month: int, day: int) -> int:
    return (date(year, month, day).toordinal() - _EPOCH_ORDINAL) * 86_400


def _year_of(epoch: int) -> int:
    return (_EPOCH + timedelta(seconds=epoch)).year


def _wall_datetime(wall_epoch: int) -> datetime:
    return _EPOCH + timedelta(seconds=wall_epoch)


def _wall_epoch(wall: datetime) -> int:
    return (wall - _EPOCH) // _ONE_SECOND


def _offset_at(tz: tzinfo, epoch: int) -> int:
    local = (_EPOCH_UTC + timedelta(seconds=epoch)).astimezone(tz)
    offset = local.utcoffset()
    return 0 if offset is None else offset // _ONE_SECOND


@functools.lru_cache(maxsize=16_384)
def _year_transitions(tz: tzinfo, year: int) -> tuple[int, ...]:
    """Instants in `year` (UTC) at which the zone's UTC offset changes (first second of the new
    offset). zoneinfo has no public transition list, so probe daily and bisect each change."""
    end = _utc_epoch(year + 1, 1, 1)
    found: list[int] = []
    probe = _utc_epoch(year, 1, 1) - 1
    probe_offset = _offset_at(tz, probe)
    while probe < end - 1:
        ahead = min(probe + _PROBE_STEP, end - 1)
        ahead_offset = _offset_at(tz, ahead)
        if ahead_offset == probe_offset:
            probe = ahead
            continue
        same, changed = probe, ahead
        while changed - same > 1:
            middle = (same + changed) // 2
            if _offset_at(tz, middle) == probe_offset:
                same = middle
            else:
                changed = middle
        found.append(changed)
        probe, probe_offset = changed, _offset_at(tz, changed)
    return tuple(found)


class _Zone:
    """The spec's time zone, seen as stretches of constant UTC offset."""

    def __init__(self, tz: tzinfo) -> None:
        self.tz = tz
        self._fixed_offset: int | None = None
        if isinstance(tz, timezone):
            self._fixed_offset = _offset_at(tz, 0)

    def offset(self, epoch: int) -> int:
        if self._fixed_offset is not None:
            return self._fixed_offset
        return _offset_at(self.tz, epoch)

    def first_change(self, lo: int, hi: int) -> int | None:
        """First instant in (lo, hi] where the offset changes, or None."""
        if self._fixed_offset is not None or hi <= lo:
            return None
        for year in range(_year_of(lo), min(_year_of(hi), _LAST_SEARCH_YEAR) + 1):
            transitions = _year_transitions(self.tz, year)
            index = bisect.bisect_right(transitions, lo)
            if index < len(transitions):
                change = transitions[index]
                return change if change <= hi else None
        return None

    def earliest_instant(self, wall: datetime) -> int:
        """The first instant showing this (existing) wall time; fold=0 picks the earlier one."""
        aware = wall.replace(tzinfo=self.tz, fold=0)
        return (aware - _EPOCH_UTC) // _ONE_SECOND


def _load_zone(spec: ScheduleSpec) -> tzinfo:
    name = spec.timezone_name
    if spec.timezone_data:
        try:
            return ZoneInfo.from_file(io.BytesIO(spec.timezone_data), key=name or None)
        except (ValueError, OSError) as exc:
            raise ScheduleSpecError(f"spec.timezone_data: invalid TZif data ({exc})") from exc
    if not name or name == "UTC":
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise ScheduleSpecError(f"spec.timezone_name: unknown time zone {name!r}") from exc


# --------------------------------------------------------------------------------------------
# Intervals, timestamps, durations
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Interval:
    every: int  # seconds, >= 1
    phase: int  # seconds, >= 0

    def next_at_or_after(self, epoch: int) -> int:
        steps = -((self.phase - epoch) // self.every)  # ceil((epoch - phase) / every)
        return self.phase + steps * self.every


def _compile_interval(spec: IntervalSpec, where: str) -> _Interval:
    if spec.interval.seconds < 0 or spec.interval.nanos < 0:
        raise ScheduleSpecError(f"{where}.interval: must not be negative")
    if spec.phase.seconds < 0 or spec.phase.nanos < 0:
        raise ScheduleSpecError(f"{where}.phase: must not be negative")
    # Both are truncated to whole seconds, as documented.
    if spec.interval.seconds < 1:
        raise ScheduleSpecError(f"{where}.interval: must be at least 1 second")
    return _Interval(every=spec.interval.seconds, phase=spec.phase.seconds)


def _epoch_floor(moment: datetime) -> int:
    if moment.tzinfo is None:  # protobuf's Timestamp.ToDatetime() returns naive UTC
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH_UTC) // _ONE_SECOND


def _as_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _from_epoch(epoch: int) -> datetime:
    return _EPOCH_UTC + timedelta(seconds=epoch)


# --------------------------------------------------------------------------------------------
# The compiled spec
# --------------------------------------------------------------------------------------------


class CompiledSpec:
    """A validated ScheduleSpec that can enumerate its action times. Immutable and reusable."""

    def __init__(
        self,
        *,
        calendars: Sequence[_Calendar],
        intervals: Sequence[_Interval],
        exclusions: Sequence[_Calendar],
        tz: tzinfo,
        start: int | None,
        end: int | None,
        jitter: timedelta,
        ambiguous: AmbiguousPolicy,
    ) -> None:
        self._calendars = tuple(calendars)
        self._intervals = tuple(intervals)
        self._exclusions = tuple(exclusions)
        self._zone = _Zone(tz)
        self._start = start
        self._end = end
        self.jitter = jitter
        self.ambiguous: AmbiguousPolicy = ambiguous

    @property
    def timezone(self) -> tzinfo:
        """The zone calendar specs are evaluated in."""
        return self._zone.tz

    @property
    def is_empty(self) -> bool:
        """True when the spec has no calendar or interval at all (it never fires)."""
        return not self._calendars and not self._intervals

    def next_time(self, after: datetime) -> datetime | None:
        """Next nominal action time strictly after `after`, or None if there is none.

        Honours start_time/end_time and exclusions. `after` should be timezone-aware (naive is
        taken as UTC); the result is an aware UTC datetime with whole seconds.
        """
        # Clamp to years 2..9990 so offset and wall-clock arithmetic never leaves datetime's range.
        lower = max(_epoch_floor(after) + 1, _FIRST_SEARCH_EPOCH)
        if self._start is not None:
            lower = max(lower, self._start)
        if lower >= _LAST_SEARCH_EPOCH:
            return None
        if self._end is not None and lower > self._end:
            return None
        max_year = min(_year_of(lower) + SEARCH_HORIZON_YEARS, _LAST_SEARCH_YEAR)
        horizon = _utc_epoch(max_year + 1, 1, 1)
        for _ in range(_MAX_EXCLUSION_SKIPS):
            candidate = self._next_included(lower, max_year)
            if candidate is None or candidate >= horizon:
                return None
            if self._end is not None and candidate > self._end:
                return None
            skip_to = self._skip_excluded(candidate, max_year, horizon)
            if skip_to is None:
                return _from_epoch(candidate)
            lower = skip_to
        return None

    def matching_times(
        self, start: datetime, end: datetime, limit: int | None = None
    ) -> list[datetime]:
        """Nominal times in (start, end], like ListScheduleMatchingTimes; at most `limit`."""
        end_utc = _as_utc(end)
        times: list[datetime] = []
        cursor = start
        while limit is None or len(times) < limit:
            found = self.next_time(cursor)
            if found is None or found > end_utc:
                break
            times.append(found)
            cursor = found
        return times

    def jittered(self, nominal: datetime, schedule_id: str) -> datetime:
        """Actual time: nominal + deterministic jitter in [0, jitter).

        The jitter comes from a hash of schedule_id and the nominal time (so retries and
        restarts agree) and is capped so the result stays before the next nominal time.
        """
        nominal_utc = _as_utc(nominal)
        limit = self.jitter // _ONE_MICROSECOND
        if limit <= 0:
            return nominal_utc
        following = self.next_time(nominal_utc)
        if following is not None:
            limit = min(limit, (following - nominal_utc) // _ONE_MICROSECOND)
        if limit <= 0:
            return nominal_utc
        key = f"{schedule_id}\x00{(nominal_utc - _EPOCH_UTC) // _ONE_MICROSECOND}"
        digest = hashlib.sha256(key.encode("utf-8")).digest()
        offset = int.from_bytes(digest[:8], "big") % limit
        return nominal_utc + timedelta(microseconds=offset)

    # -- internals ---------------------------------------------------------------------------

    def _next_included(self, lower: int, max_year: int) -> int | None:
        """Earliest time >= lower of any calendar or interval, ignoring exclusions."""
        best: int | None = None
        for interval in self._intervals:
            found = interval.next_at_or_after(lower)
            if best is None or found < best:
                best = found
        for cal in self._calendars:
            found_cal = self._next_calendar_time(cal, lower, max_year)
            if found_cal is not None and (best is None or found_cal < best):
                best = found_cal
        return best

    def _next_calendar_time(self, cal: _Calendar, lower: int, max_year: int) -> int | None:
        """Earliest instant >= lower whose wall clock matches `cal`.

        Within a stretch of constant UTC offset, wall time = instant + offset is a bijection,
        so search wall time there; if the match lies past the next offset change, restart at
        the change. Gaps are skipped naturally and repeated wall times are seen twice.
        """
        zone = self._zone
        cursor = lower
        while True:
            offset = zone.offset(cursor)
            wall = cal.next_match(_wall_datetime(cursor + offset), max_year)
            if wall is None:
                return None
            instant = _wall_epoch(wall) - offset
            change = zone.first_change(cursor, instant)
            if change is not None:
                cursor = change
                continue
            if self.ambiguous == "first" and zone.earliest_instant(wall) < instant:
                cursor = instant + 1  # second showing of a repeated wall time
                continue
            return instant

    def _skip_excluded(self, candidate: int, max_year: int, horizon: int) -> int | None:
        """None if `candidate` is not excluded, else the first instant that might not be.

        Jumps over the whole run of wall times matching the exclusion, but never across an
        offset change (past it, wall times may repeat ones the exclusion did not cover).
        """
        if not self._exclusions:
            return None
        offset = self._zone.offset(candidate)
        wall = _wall_datetime(candidate + offset)
        for exclusion in self._exclusions:
            if not exclusion.matches(wall):
                continue
            miss = exclusion.next_miss(wall, max_year)
            if miss is None:
                return horizon  # excluded until the end of the search window
            target = _wall_epoch(miss) - offset
            change = self._zone.first_change(candidate, target)
            if change is not None:
                target = change
            return max(target, candidate + 1)
        return None


def _timestamp_bounds(spec: ScheduleSpec) -> tuple[int | None, int | None]:
    start: int | None = None
    end: int | None = None
    if spec.HasField("start_time"):
        # Inclusive bound on whole-second times: round a fractional start up.
        start = spec.start_time.seconds + (1 if spec.start_time.nanos > 0 else 0)
    if spec.HasField("end_time"):
        end = spec.end_time.seconds
    return start, end


def compile_spec(spec: ScheduleSpec, *, ambiguous: AmbiguousPolicy = "both") -> CompiledSpec:
    """Validate `spec` and compile it for evaluation. Raises ScheduleSpecError.

    `ambiguous` decides what happens to a calendar wall time that occurs twice when clocks go
    back: "both" (the proto's documented behaviour) fires at each, "first" only at the earlier.
    """
    if ambiguous not in ("both", "first"):
        raise ValueError(f"ambiguous must be 'both' or 'first', not {ambiguous!r}")
    canon = canonical_spec(spec)
    tz = _load_zone(canon)
    calendars = [
        _compile_structured(cal, f"spec.structured_calendar[{i}]")
        for i, cal in enumerate(canon.structured_calendar)
    ]
    intervals = [
        _compile_interval(iv, f"spec.interval[{i}]") for i, iv in enumerate(canon.interval)
    ]
    exclusions = [
        _compile_structured(cal, f"spec.exclude_structured_calendar[{i}]")
        for i, cal in enumerate(canon.exclude_structured_calendar)
    ]
    start, end = _timestamp_bounds(canon)
    jitter = timedelta(0)
    if canon.HasField("jitter"):
        if canon.jitter.seconds < 0 or canon.jitter.nanos < 0:
            raise ScheduleSpecError("spec.jitter: must not be negative")
        jitter = timedelta(seconds=canon.jitter.seconds, microseconds=canon.jitter.nanos // 1000)
    return CompiledSpec(
        calendars=calendars,
        intervals=intervals,
        exclusions=exclusions,
        tz=tz,
        start=start,
        end=end,
        jitter=jitter,
        ambiguous=ambiguous,
    )
