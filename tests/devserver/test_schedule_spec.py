"""Unit tests for ScheduleSpec evaluation (devserver.schedule_spec); no server needed."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from google.protobuf.duration_pb2 import Duration
from google.protobuf.timestamp_pb2 import Timestamp
from temporalio.api.schedule.v1.message_pb2 import (
    CalendarSpec,
    IntervalSpec,
    Range,
    ScheduleSpec,
    StructuredCalendarSpec,
)

from devserver.schedule_spec import (
    AmbiguousPolicy,
    CompiledSpec,
    ScheduleSpecError,
    canonical_spec,
    compile_spec,
)

NEW_YORK = ZoneInfo("America/New_York")


def at(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def duration(seconds: int, nanos: int = 0) -> Duration:
    return Duration(seconds=seconds, nanos=nanos)


def timestamp(moment: datetime, nanos: int = 0) -> Timestamp:
    return Timestamp(seconds=int(moment.timestamp()), nanos=nanos)


def every(seconds: int, phase: int = 0) -> IntervalSpec:
    return IntervalSpec(interval=duration(seconds), phase=duration(phase))


def take(compiled: CompiledSpec, after: datetime, count: int) -> list[datetime]:
    """The next `count` nominal times after `after` (fewer if the spec runs out)."""
    times: list[datetime] = []
    cursor = after
    for _ in range(count):
        found = compiled.next_time(cursor)
        if found is None:
            break
        times.append(found)
        cursor = found
    return times


def cron(expression: str, timezone_name: str = "") -> CompiledSpec:
    return compile_spec(ScheduleSpec(cron_string=[expression], timezone_name=timezone_name))


def local(moment: datetime, zone: ZoneInfo = NEW_YORK) -> datetime:
    return moment.astimezone(zone)


# --------------------------------------------------------------------------------------------
# Intervals
# --------------------------------------------------------------------------------------------


def test_interval_hourly_fires_on_the_hour() -> None:
    compiled = compile_spec(ScheduleSpec(interval=[every(3600)]))
    assert take(compiled, at(2024, 5, 1, 10, 30), 3) == [
        at(2024, 5, 1, 11),
        at(2024, 5, 1, 12),
        at(2024, 5, 1, 13),
    ]


def test_interval_phase_shifts_every_time() -> None:
    compiled = compile_spec(ScheduleSpec(interval=[every(3600, phase=19 * 60)]))
    assert take(compiled, at(2024, 5, 1, 10, 30), 2) == [
        at(2024, 5, 1, 11, 19),
        at(2024, 5, 1, 12, 19),
    ]


def test_interval_examples_from_the_proto_documentation() -> None:
    # "An interval of 28 days with phase zero would match 2022-02-17T00:00:00Z ... with a phase
    # of 3 days, 5 hours, and 23 minutes would match 2022-02-20T05:23:00Z instead."
    plain = compile_spec(ScheduleSpec(interval=[every(28 * 86400)]))
    assert plain.next_time(at(2022, 2, 16)) == at(2022, 2, 17)
    phased = compile_spec(
        ScheduleSpec(interval=[every(28 * 86400, phase=3 * 86400 + 5 * 3600 + 23 * 60)])
    )
    assert phased.next_time(at(2022, 2, 16)) == at(2022, 2, 20, 5, 23)


def test_next_time_is_strictly_after_even_on_a_match() -> None:
    compiled = compile_spec(ScheduleSpec(interval=[every(60)]))
    assert compiled.next_time(at(2024, 1, 1, 0, 5)) == at(2024, 1, 1, 0, 6)
    assert compiled.next_time(at(2024, 1, 1, 0, 5) - timedelta(microseconds=1)) == at(
        2024, 1, 1, 0, 5
    )


def test_interval_and_phase_are_truncated_to_whole_seconds() -> None:
    spec = ScheduleSpec(
        interval=[IntervalSpec(interval=duration(10, 900_000_000), phase=duration(3, 500))]
    )
    compiled = compile_spec(spec)
    assert take(compiled, at(2024, 1, 1), 2) == [at(2024, 1, 1, 0, 0, 3), at(2024, 1, 1, 0, 0, 13)]


def test_matching_times_over_a_day_of_hourly_interval_returns_24() -> None:
    compiled = compile_spec(ScheduleSpec(interval=[every(3600)]))
    times = compiled.matching_times(at(2024, 6, 1), at(2024, 6, 2))
    # (start, end]: midnight at the start is excluded, midnight at the end included.
    assert len(times) == 24
    assert times[0] == at(2024, 6, 1, 1)
    assert times[-1] == at(2024, 6, 2)
    assert compiled.matching_times(at(2024, 6, 1), at(2024, 6, 2), limit=5) == times[:5]


def test_naive_datetimes_are_taken_as_utc() -> None:
    compiled = compile_spec(ScheduleSpec(interval=[every(3600)]))
    found = compiled.next_time(datetime(2024, 5, 1, 10, 30))
    assert found == at(2024, 5, 1, 11)
    assert found is not None and found.tzinfo is not None


def test_extreme_datetimes_do_not_overflow() -> None:
    spec = ScheduleSpec(cron_string=["0 0 * * *"], timezone_name="America/New_York")
    compiled = compile_spec(spec)
    assert compiled.next_time(datetime.max.replace(tzinfo=UTC)) is None
    found = compiled.next_time(datetime.min.replace(tzinfo=UTC))
    assert found is not None and found.year == 2


def test_empty_spec_never_fires() -> None:
    compiled = compile_spec(ScheduleSpec())
    assert compiled.is_empty
    assert compiled.next_time(at(2024, 1, 1)) is None


# --------------------------------------------------------------------------------------------
# Structured calendars
# --------------------------------------------------------------------------------------------


def test_structured_calendar_with_no_ranges_fires_daily_at_midnight() -> None:
    compiled = compile_spec(ScheduleSpec(structured_calendar=[StructuredCalendarSpec()]))
    assert take(compiled, at(2024, 2, 27, 15), 4) == [
        at(2024, 2, 28),
        at(2024, 2, 29),
        at(2024, 3, 1),
        at(2024, 3, 2),
    ]


def test_structured_calendar_sdk_default_ranges_mean_the_same() -> None:
    explicit = StructuredCalendarSpec(
        second=[Range(start=0)],
        minute=[Range(start=0)],
        hour=[Range(start=0)],
        day_of_month=[Range(start=1, end=31)],
        month=[Range(start=1, end=12)],
        day_of_week=[Range(start=0, end=6)],
    )
    compiled = compile_spec(ScheduleSpec(structured_calendar=[explicit]))
    assert take(compiled, at(2024, 1, 1, 5), 2) == [at(2024, 1, 2), at(2024, 1, 3)]


def test_structured_ranges_and_steps() -> None:
    cal = StructuredCalendarSpec(
        minute=[Range(start=0, end=59, step=15)],
        hour=[Range(start=9, end=10)],
    )
    compiled = compile_spec(ScheduleSpec(structured_calendar=[cal]))
    times = compiled.matching_times(at(2024, 1, 1), at(2024, 1, 2))
    assert [(t.hour, t.minute) for t in times] == [
        (9, 0),
        (9, 15),
        (9, 30),
        (9, 45),
        (10, 0),
        (10, 15),
        (10, 30),
        (10, 45),
    ]


def test_range_end_before_start_is_single_value_and_step_zero_is_one() -> None:
    cal = StructuredCalendarSpec(
        second=[Range(start=30, end=5)],  # end < start: just 30
        minute=[Range(start=1, end=3, step=0)],  # step 0: 1, 2, 3
        hour=[Range(start=7)],
    )
    compiled = compile_spec(ScheduleSpec(structured_calendar=[cal]))
    assert take(compiled, at(2024, 1, 1), 4) == [
        at(2024, 1, 1, 7, 1, 30),
        at(2024, 1, 1, 7, 2, 30),
        at(2024, 1, 1, 7, 3, 30),
        at(2024, 1, 2, 7, 1, 30),
    ]


def test_structured_weekdays_skip_the_weekend() -> None:
    cal = StructuredCalendarSpec(hour=[Range(start=9)], day_of_week=[Range(start=1, end=5)])
    compiled = compile_spec(ScheduleSpec(structured_calendar=[cal]))
    # 2024-05-03 is a Friday.
    assert compiled.next_time(at(2024, 5, 3, 10)) == at(2024, 5, 6, 9)


def test_day_of_week_seven_is_sunday() -> None:
    cal = StructuredCalendarSpec(day_of_week=[Range(start=7)])
    compiled = compile_spec(ScheduleSpec(structured_calendar=[cal]))
    found = compiled.next_time(at(2024, 5, 1))
    assert found == at(2024, 5, 5)
    assert found is not None and found.isoweekday() == 7


def test_year_restricted_spec_runs_out() -> None:
    cal = StructuredCalendarSpec(
        day_of_month=[Range(start=1)], month=[Range(start=1)], year=[Range(start=2030)]
    )
    compiled = compile_spec(ScheduleSpec(structured_calendar=[cal]))
    assert compiled.next_time(at(2024, 1, 1)) == at(2030, 1, 1)
    assert compiled.next_time(at(2030, 1, 1)) is None


def test_year_ranges_with_step() -> None:
    cal = StructuredCalendarSpec(
        day_of_month=[Range(start=1)],
        month=[Range(start=6)],
        year=[Range(start=2025, end=2031, step=3)],
    )
    compiled = compile_spec(ScheduleSpec(structured_calendar=[cal]))
    assert take(compiled, at(2024, 1, 1), 5) == [at(2025, 6, 1), at(2028, 6, 1), at(2031, 6, 1)]


def test_february_29_is_found_quickly() -> None:
    cal = StructuredCalendarSpec(day_of_month=[Range(start=29)], month=[Range(start=2)])
    compiled = compile_spec(ScheduleSpec(structured_calendar=[cal], timezone_name="Europe/Paris"))
    started = time.perf_counter()
    times = take(compiled, at(2025, 1, 1), 3)
    assert time.perf_counter() - started < 1.0
    assert [local(t, ZoneInfo("Europe/Paris")).date().isoformat() for t in times] == [
        "2028-02-29",
        "2032-02-29",
        "2036-02-29",
    ]


def test_impossible_date_returns_none_quickly() -> None:
    cal = StructuredCalendarSpec(day_of_month=[Range(start=30)], month=[Range(start=2)])
    compiled = compile_spec(ScheduleSpec(structured_calendar=[cal]))
    started = time.perf_counter()
    assert compiled.next_time(at(2024, 1, 1)) is None
    assert time.perf_counter() - started < 1.0


def test_yearly_spec_steps_by_year_not_by_second() -> None:
    compiled = cron("@yearly", timezone_name="America/New_York")
    started = time.perf_counter()
    times = take(compiled, at(2024, 6, 1), 60)
    assert time.perf_counter() - started < 2.0
    assert len(times) == 60
    assert all(local(t).timetuple()[1:6] == (1, 1, 0, 0, 0) for t in times)
    assert [local(t).year for t in times] == list(range(2025, 2085))


def test_search_gives_up_after_the_horizon() -> None:
    cal = StructuredCalendarSpec(year=[Range(start=2200)])
    compiled = compile_spec(ScheduleSpec(structured_calendar=[cal]))
    assert compiled.next_time(at(2024, 1, 1)) is None
    assert compiled.next_time(at(2150, 1, 1)) == at(2200, 1, 1)


# --------------------------------------------------------------------------------------------
# CalendarSpec strings
# --------------------------------------------------------------------------------------------


def test_calendar_spec_defaults_fire_daily_at_midnight() -> None:
    compiled = compile_spec(ScheduleSpec(calendar=[CalendarSpec()]))
    assert take(compiled, at(2024, 3, 1, 12), 2) == [at(2024, 3, 2), at(2024, 3, 3)]


def test_calendar_spec_business_hours_every_quarter_hour() -> None:
    spec = CalendarSpec(minute="*/15", hour="9-17", day_of_week="MON-FRI")
    compiled = compile_spec(ScheduleSpec(calendar=[spec]))
    # Friday 2024-05-03 17:45 is the last slot of the week.
    assert take(compiled, at(2024, 5, 3, 17, 30), 3) == [
        at(2024, 5, 3, 17, 45),
        at(2024, 5, 6, 9),
        at(2024, 5, 6, 9, 15),
    ]
    assert len(compiled.matching_times(at(2024, 5, 6), at(2024, 5, 7))) == 9 * 4


def test_calendar_spec_month_and_day_names_and_lists() -> None:
    spec = CalendarSpec(hour="6", day_of_month="1,15", month="JAN,march")
    compiled = compile_spec(ScheduleSpec(calendar=[spec]))
    assert take(compiled, at(2024, 1, 1, 7), 4) == [
        at(2024, 1, 15, 6),
        at(2024, 3, 1, 6),
        at(2024, 3, 15, 6),
        at(2025, 1, 1, 6),
    ]
    full_names = compile_spec(
        ScheduleSpec(calendar=[CalendarSpec(month="January-Feb", day_of_week="sunday")])
    )
    assert full_names.next_time(at(2024, 2, 26)) == at(2025, 1, 5)


def test_calendar_spec_step_forms() -> None:
    spec = CalendarSpec(second="1-5/2", minute="5/20", hour="*")
    compiled = compile_spec(ScheduleSpec(calendar=[spec]))
    times = compiled.matching_times(at(2024, 1, 1), at(2024, 1, 1, 1) - timedelta(seconds=1))
    assert [(t.minute, t.second) for t in times] == [(m, s) for m in (5, 25, 45) for s in (1, 3, 5)]


def test_calendar_spec_sunday_as_seven_and_star() -> None:
    compiled = compile_spec(ScheduleSpec(calendar=[CalendarSpec(day_of_week="6-7")]))
    # 2024-05-04 is a Saturday.
    assert take(compiled, at(2024, 5, 1), 3) == [at(2024, 5, 4), at(2024, 5, 5), at(2024, 5, 11)]


# --------------------------------------------------------------------------------------------
# Cron strings
# --------------------------------------------------------------------------------------------


def test_cron_five_fields() -> None:
    compiled = cron("0 12 * * MON")
    # 2024-01-01 is a Monday.
    assert take(compiled, at(2024, 1, 1), 2) == [at(2024, 1, 1, 12), at(2024, 1, 8, 12)]


def test_cron_six_fields_end_with_year() -> None:
    compiled = cron("30 8 1 1 * 2026")
    assert compiled.next_time(at(2024, 1, 1)) == at(2026, 1, 1, 8, 30)
    assert compiled.next_time(at(2026, 1, 1, 8, 30)) is None


def test_cron_seven_fields_start_with_second() -> None:
    compiled = cron("15 30 8 * * * *")
    assert take(compiled, at(2024, 1, 1), 2) == [
        at(2024, 1, 1, 8, 30, 15),
        at(2024, 1, 2, 8, 30, 15),
    ]


@pytest.mark.parametrize(
    ("shorthand", "expected"),
    [
        ("@yearly", [at(2025, 1, 1), at(2026, 1, 1)]),
        ("@annually", [at(2025, 1, 1), at(2026, 1, 1)]),
        ("@monthly", [at(2024, 6, 1), at(2024, 7, 1)]),
        ("@weekly", [at(2024, 5, 19), at(2024, 5, 26)]),
        ("@daily", [at(2024, 5, 16), at(2024, 5, 17)]),
        ("@midnight", [at(2024, 5, 16), at(2024, 5, 17)]),
        ("@hourly", [at(2024, 5, 15, 11), at(2024, 5, 15, 12)]),
    ],
)
def test_cron_shorthands(shorthand: str, expected: list[datetime]) -> None:
    assert take(cron(shorthand), at(2024, 5, 15, 10, 30), 2) == expected


def test_cron_every_becomes_an_interval() -> None:
    spec = ScheduleSpec(cron_string=["@every 90m/15m"])
    canon = canonical_spec(spec)
    assert list(canon.cron_string) == []
    assert len(canon.structured_calendar) == 0
    assert [(iv.interval.seconds, iv.phase.seconds) for iv in canon.interval] == [(5400, 900)]
    compiled = compile_spec(spec)
    assert take(compiled, at(2024, 1, 1), 2) == [at(2024, 1, 1, 0, 15), at(2024, 1, 1, 1, 45)]
    assert cron("@every 1d").next_time(at(2024, 1, 1, 3)) == at(2024, 1, 2)


@pytest.mark.parametrize("prefix", ["CRON_TZ", "TZ"])
def test_cron_time_zone_prefix(prefix: str) -> None:
    spec = ScheduleSpec(cron_string=[f"{prefix}=America/New_York 0 9 * * *"])
    assert canonical_spec(spec).timezone_name == "America/New_York"
    compiled = compile_spec(spec)
    assert compiled.next_time(at(2024, 1, 10)) == at(2024, 1, 10, 14)  # EST, UTC-5
    assert compiled.next_time(at(2024, 7, 10)) == at(2024, 7, 10, 13)  # EDT, UTC-4


def test_cron_comment_is_kept_on_the_structured_calendar() -> None:
    canon = canonical_spec(ScheduleSpec(cron_string=["0 9 * * * # morning report"]))
    assert canon.structured_calendar[0].comment == "morning report"
    assert list(canon.structured_calendar[0].hour) == [Range(start=9, end=9, step=1)]


def test_cron_day_of_month_and_day_of_week_are_combined_with_and() -> None:
    # The proto: the classic cron "or" special case is not implemented. So: Friday the 13th.
    compiled = cron("0 0 13 * FRI")
    assert take(compiled, at(2024, 1, 1), 3) == [at(2024, 9, 13), at(2024, 12, 13), at(2025, 6, 13)]


def test_cron_question_mark_means_any() -> None:
    assert cron("0 12 ? * MON").next_time(at(2024, 1, 1)) == at(2024, 1, 1, 12)


@pytest.mark.parametrize(
    ("expression", "fragment"),
    [
        ("0 0 L * *", "'L' (last)"),
        ("0 0 15W * *", "'W' (nearest weekday)"),
        ("0 0 * * 5L", "'L' (last)"),
        ("0 0 * * FRI#2", "nth weekday"),
    ],
)
def test_cron_unsupported_extensions_are_rejected(expression: str, fragment: str) -> None:
    with pytest.raises(ScheduleSpecError, match="spec.cron_string\\[0\\]") as caught:
        cron(expression)
    assert fragment in str(caught.value)


@pytest.mark.parametrize("expression", ["0 12 * *", "0 0 0 12 * * * *", ""])
def test_cron_with_wrong_number_of_fields_is_rejected(expression: str) -> None:
    with pytest.raises(ScheduleSpecError, match=r"^spec\.cron_string\[0\]: "):
        cron(expression)


# --------------------------------------------------------------------------------------------
# Time zones and daylight saving time
# --------------------------------------------------------------------------------------------


def test_calendar_follows_the_zone_offset_through_the_year() -> None:
    compiled = compile_spec(
        ScheduleSpec(calendar=[CalendarSpec(hour="9")], timezone_name="Europe/Berlin")
    )
    assert compiled.next_time(at(2024, 1, 15)) == at(2024, 1, 15, 8)  # CET, UTC+1
    assert compiled.next_time(at(2024, 7, 15)) == at(2024, 7, 15, 7)  # CEST, UTC+2


def test_dst_gap_wall_time_is_skipped() -> None:
    compiled = cron("30 2 * * *", timezone_name="America/New_York")
    # 2024-03-10 has no 02:30 in New York: clocks jump from 02:00 to 03:00.
    times = take(compiled, at(2024, 3, 8), 3)
    assert [local(t).date().isoformat() for t in times] == [
        "2024-03-08",
        "2024-03-09",
        "2024-03-11",
    ]
    assert all(local(t).hour == 2 and local(t).minute == 30 for t in times)


def test_dst_repeated_wall_time_fires_twice_by_default() -> None:
    compiled = cron("30 1 * * *", timezone_name="America/New_York")
    # On 2024-11-03, 01:30 happens at 05:30Z (EDT) and again at 06:30Z (EST).
    assert take(compiled, at(2024, 11, 2, 12), 3) == [
        at(2024, 11, 3, 5, 30),
        at(2024, 11, 3, 6, 30),
        at(2024, 11, 4, 6, 30),
    ]


def test_dst_repeated_wall_time_first_only_policy() -> None:
    spec = ScheduleSpec(cron_string=["30 1 * * *"], timezone_name="America/New_York")
    compiled = compile_spec(spec, ambiguous="first")
    assert take(compiled, at(2024, 11, 2, 12), 2) == [
        at(2024, 11, 3, 5, 30),
        at(2024, 11, 4, 6, 30),
    ]


def test_hourly_calendar_over_a_fall_back_day_has_25_hours() -> None:
    compiled = compile_spec(
        ScheduleSpec(calendar=[CalendarSpec(hour="*")], timezone_name="America/New_York")
    )
    day_start = datetime(2024, 11, 3, tzinfo=NEW_YORK)
    day_end = datetime(2024, 11, 4, tzinfo=NEW_YORK)
    times = compiled.matching_times(
        day_start - timedelta(seconds=1), day_end - timedelta(seconds=1)
    )
    assert len(times) == 25
    assert [local(t).hour for t in times].count(1) == 2
    spring = compiled.matching_times(
        datetime(2024, 3, 10, tzinfo=NEW_YORK) - timedelta(seconds=1),
        datetime(2024, 3, 11, tzinfo=NEW_YORK) - timedelta(seconds=1),
    )
    assert len(spring) == 23
    assert 2 not in [local(t).hour for t in spring]


def test_unknown_time_zone_names_timezone_name() -> None:
    with pytest.raises(ScheduleSpecError, match=r"^spec\.timezone_name: .*'Mars/Olympus_Mons'"):
        compile_spec(ScheduleSpec(interval=[every(60)], timezone_name="Mars/Olympus_Mons"))


def test_timezone_data_is_used_when_given() -> None:
    tzif = Path("/usr/share/zoneinfo/Asia/Kolkata")
    if not tzif.exists():
        pytest.skip("system tz database not available")
    spec = ScheduleSpec(
        calendar=[CalendarSpec(hour="12")],
        timezone_name="Custom/Zone",
        timezone_data=tzif.read_bytes(),
    )
    assert compile_spec(spec).next_time(at(2024, 1, 1)) == at(2024, 1, 1, 6, 30)  # UTC+05:30
    with pytest.raises(ScheduleSpecError, match=r"^spec\.timezone_data: "):
        compile_spec(ScheduleSpec(timezone_data=b"not a tzif file"))


def _reference_values(ranges: list[Range], default: range) -> set[int]:
    if not ranges:
        return set(default)
    values: set[int] = set()
    for rng in ranges:
        values.update(range(rng.start, max(rng.end, rng.start) + 1, rng.step or 1))
    return values


def _reference_matcher(cal: StructuredCalendarSpec) -> Callable[[datetime], bool]:
    seconds = _reference_values(list(cal.second), range(1))
    minutes = _reference_values(list(cal.minute), range(1))
    hours = _reference_values(list(cal.hour), range(1))
    days = _reference_values(list(cal.day_of_month), range(1, 32))
    months = _reference_values(list(cal.month), range(1, 13))
    weekdays = {v % 7 for v in _reference_values(list(cal.day_of_week), range(7))}
    years = _reference_values(list(cal.year), range(1, 10000))

    def matches(wall: datetime) -> bool:
        return (
            wall.second in seconds
            and wall.minute in minutes
            and wall.hour in hours
            and wall.day in days
            and wall.month in months
            and wall.year in years
            and wall.isoweekday() % 7 in weekdays
        )

    return matches


def _random_ranges(rng: random.Random, low: int, high: int) -> list[Range]:
    ranges = []
    for _ in range(rng.randint(1, 3)):
        start = rng.randint(low, high)
        ranges.append(Range(start=start, end=rng.randint(low, high), step=rng.randint(0, 4)))
    return ranges


@pytest.mark.parametrize(
    ("zone_name", "first_day", "ambiguous"),
    [
        ("UTC", datetime(2024, 2, 28), "both"),
        ("America/New_York", datetime(2024, 3, 9), "both"),
        ("America/New_York", datetime(2024, 11, 2), "both"),
        ("America/New_York", datetime(2024, 11, 2), "first"),
        ("Australia/Lord_Howe", datetime(2024, 4, 6), "both"),  # 30-minute DST shift
    ],
)
def test_agrees_with_brute_force_enumeration(
    zone_name: str, first_day: datetime, ambiguous: AmbiguousPolicy
) -> None:
    """Random calendars (and exclusions) against checking every 30 seconds over two days."""
    zone = ZoneInfo(zone_name)
    rng = random.Random(f"{zone_name}{first_day}{ambiguous}")
    start = first_day.replace(tzinfo=UTC) - timedelta(hours=14)
    steps = 2 * 24 * 120
    instants = [start + timedelta(seconds=30 * i) for i in range(1, steps + 1)]
    walls = [t.astimezone(zone).replace(tzinfo=None) for t in instants]
    # fold=0 gives the earliest instant showing a wall time, for the "first" policy. (Compare
    # timestamps: PEP 495 makes == between zones False for ambiguous times.)
    firsts = [
        w.replace(tzinfo=zone, fold=0).timestamp() == t.timestamp()
        for w, t in zip(walls, instants, strict=True)
    ]

    for _ in range(12):
        cal = StructuredCalendarSpec(
            second=[Range(start=0, end=30, step=30)] if rng.random() < 0.5 else [Range(start=0)],
            minute=_random_ranges(rng, 0, 59),
            hour=_random_ranges(rng, 0, 23),
            day_of_week=_random_ranges(rng, 0, 7) if rng.random() < 0.3 else [],
        )
        exclusions = []
        if rng.random() < 0.5:
            exclusions.append(
                StructuredCalendarSpec(
                    second=[Range(start=0, end=59)],
                    minute=_random_ranges(rng, 0, 59),
                    hour=_random_ranges(rng, 0, 23),
                )
            )
        spec = ScheduleSpec(
            structured_calendar=[cal],
            exclude_structured_calendar=exclusions,
            timezone_name=zone_name,
        )
        included = _reference_matcher(cal)
        excluded = [_reference_matcher(ex) for ex in exclusions]
        expected = [
            t
            for t, wall, first in zip(instants, walls, firsts, strict=True)
            if included(wall)
            and not any(ex(wall) for ex in excluded)
            and (first or ambiguous == "both")
        ]
        compiled = compile_spec(spec, ambiguous=ambiguous)
        assert compiled.matching_times(start, instants[-1]) == expected, spec


# --------------------------------------------------------------------------------------------
# Exclusions, start/end, union
# --------------------------------------------------------------------------------------------


def test_exclude_structured_calendar_skips_matching_times() -> None:
    spec = ScheduleSpec(
        structured_calendar=[StructuredCalendarSpec()],  # daily at midnight
        exclude_structured_calendar=[
            StructuredCalendarSpec(day_of_week=[Range(start=0), Range(start=6)])
        ],
    )
    compiled = compile_spec(spec)
    # 2024-05-04/05 are Saturday/Sunday.
    assert take(compiled, at(2024, 5, 3, 1), 2) == [at(2024, 5, 6), at(2024, 5, 7)]


def test_exclude_calendar_jumps_over_a_whole_weekend() -> None:
    spec = ScheduleSpec(
        interval=[every(1)],  # every second: stepping one by one would take ~170k steps
        exclude_calendar=[CalendarSpec(second="*", minute="*", hour="*", day_of_week="SAT,SUN")],
    )
    compiled = compile_spec(spec)
    started = time.perf_counter()
    assert compiled.next_time(at(2024, 5, 3, 23, 59, 59)) == at(2024, 5, 6)
    assert time.perf_counter() - started < 0.5
    canon = canonical_spec(spec)
    assert list(canon.exclude_calendar) == []
    assert len(canon.exclude_structured_calendar) == 1


def test_exclusion_that_covers_everything_leaves_no_times() -> None:
    spec = ScheduleSpec(
        interval=[every(60)],
        exclude_calendar=[CalendarSpec(second="*", minute="*", hour="*")],
    )
    assert compile_spec(spec).next_time(at(2024, 1, 1)) is None


def test_start_and_end_time_are_inclusive_bounds() -> None:
    spec = ScheduleSpec(
        interval=[every(3600)],
        start_time=timestamp(at(2024, 1, 1, 5)),
        end_time=timestamp(at(2024, 1, 1, 8)),
    )
    compiled = compile_spec(spec)
    assert compiled.matching_times(at(2023, 1, 1), at(2025, 1, 1)) == [
        at(2024, 1, 1, 5),
        at(2024, 1, 1, 6),
        at(2024, 1, 1, 7),
        at(2024, 1, 1, 8),
    ]
    assert compiled.next_time(at(2024, 1, 1, 8)) is None


def test_fractional_start_time_rounds_up() -> None:
    spec = ScheduleSpec(interval=[every(1)], start_time=timestamp(at(2024, 1, 1), nanos=1))
    assert compile_spec(spec).next_time(at(2023, 1, 1)) == at(2024, 1, 1, 0, 0, 1)


def test_union_of_interval_and_calendar() -> None:
    spec = ScheduleSpec(interval=[every(6 * 3600)], calendar=[CalendarSpec(hour="1", minute="30")])
    compiled = compile_spec(spec)
    assert take(compiled, at(2024, 1, 1), 3) == [
        at(2024, 1, 1, 1, 30),
        at(2024, 1, 1, 6),
        at(2024, 1, 1, 12),
    ]


def test_overlapping_sources_yield_each_time_once() -> None:
    spec = ScheduleSpec(interval=[every(3600)], cron_string=["0 * * * *"])
    times = compile_spec(spec).matching_times(at(2024, 1, 1), at(2024, 1, 1, 3))
    assert times == [at(2024, 1, 1, 1), at(2024, 1, 1, 2), at(2024, 1, 1, 3)]


# --------------------------------------------------------------------------------------------
# Jitter
# --------------------------------------------------------------------------------------------


def test_jitter_is_deterministic_and_within_bounds() -> None:
    compiled = compile_spec(ScheduleSpec(interval=[every(3600)], jitter=duration(600)))
    nominals = take(compiled, at(2024, 1, 1), 50)
    offsets = [compiled.jittered(n, "sched-a") - n for n in nominals]
    assert all(timedelta(0) <= o < timedelta(minutes=10) for o in offsets)
    assert offsets == [compiled.jittered(n, "sched-a") - n for n in nominals]
    assert len(set(offsets)) > 40  # spread out, not constant
    assert offsets != [compiled.jittered(n, "sched-b") - n for n in nominals]


def test_jitter_never_reaches_the_next_nominal_time() -> None:
    compiled = compile_spec(ScheduleSpec(interval=[every(60)], jitter=duration(3600)))
    for nominal in take(compiled, at(2024, 1, 1), 100):
        actual = compiled.jittered(nominal, "busy")
        assert nominal <= actual < nominal + timedelta(minutes=1)


def test_without_jitter_actual_time_is_nominal() -> None:
    compiled = compile_spec(ScheduleSpec(interval=[every(60)]))
    assert compiled.jittered(at(2024, 1, 1, 0, 1), "x") == at(2024, 1, 1, 0, 1)


# --------------------------------------------------------------------------------------------
# Canonical form
# --------------------------------------------------------------------------------------------


def test_canonical_spec_converts_strings_to_structured() -> None:
    original_structured = StructuredCalendarSpec(second=[Range(start=1, step=1)], comment="kept")
    spec = ScheduleSpec(
        structured_calendar=[original_structured],
        calendar=[CalendarSpec(hour="9-17", minute="*/30", comment="work")],
        cron_string=["0 12 * * MON"],
        exclude_calendar=[CalendarSpec(month="DEC", day_of_month="25")],
        jitter=duration(30),
    )
    canon = canonical_spec(spec)
    assert list(canon.calendar) == []
    assert list(canon.cron_string) == []
    assert list(canon.exclude_calendar) == []
    assert canon.jitter.seconds == 30
    # The sent structured calendar comes back untouched, the converted ones follow it.
    assert canon.structured_calendar[0] == original_structured
    work = canon.structured_calendar[1]
    assert work.comment == "work"
    assert list(work.hour) == [Range(start=9, end=17, step=1)]
    assert list(work.minute) == [Range(start=0, end=59, step=30)]
    assert list(work.year) == []
    excluded = canon.exclude_structured_calendar[0]
    assert list(excluded.month) == [Range(start=12, end=12, step=1)]
    assert list(excluded.day_of_month) == [Range(start=25, end=25, step=1)]
    # The input is not modified.
    assert len(spec.cron_string) == 1


def test_canonical_cron_has_the_shape_the_sdk_expects() -> None:
    """Matches what temporalio's schedule test expects back from a real server for a cron."""
    cal = canonical_spec(ScheduleSpec(cron_string=["0 12 * * MON"])).structured_calendar[0]

    def normalized(ranges: list[Range]) -> list[tuple[int, int, int]]:
        # The SDK's ScheduleRange defaults: end < start -> start, step 0 -> 1.
        return [(r.start, max(r.end, r.start), r.step or 1) for r in ranges]

    assert normalized(list(cal.second)) == [(0, 0, 1)]
    assert normalized(list(cal.minute)) == [(0, 0, 1)]
    assert normalized(list(cal.hour)) == [(12, 12, 1)]
    assert normalized(list(cal.day_of_month)) == [(1, 31, 1)]
    assert normalized(list(cal.month)) == [(1, 12, 1)]
    assert normalized(list(cal.day_of_week)) == [(1, 1, 1)]
    assert list(cal.year) == []


def test_canonical_spec_is_idempotent_and_equivalent() -> None:
    spec = ScheduleSpec(
        calendar=[CalendarSpec(hour="*/6", day_of_week="TUE-THU")],
        cron_string=["TZ=Europe/London 15 10 1,15 * *", "@every 45m"],
    )
    canon = canonical_spec(spec)
    assert canonical_spec(canon) == canon
    after = at(2024, 3, 20)
    assert take(compile_spec(spec), after, 30) == take(compile_spec(canon), after, 30)


def test_cron_time_zone_conflicting_with_timezone_name_is_rejected() -> None:
    spec = ScheduleSpec(cron_string=["TZ=Asia/Tokyo 0 9 * * *"], timezone_name="Europe/Paris")
    with pytest.raises(ScheduleSpecError, match=r"^spec\.cron_string\[0\]: .*conflicts"):
        canonical_spec(spec)


# --------------------------------------------------------------------------------------------
# Validation errors name the field
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (
            ScheduleSpec(structured_calendar=[StructuredCalendarSpec(hour=[Range(start=25)])]),
            "spec.structured_calendar[0].hour: value 25 out of range 0-23",
        ),
        (
            ScheduleSpec(
                structured_calendar=[
                    StructuredCalendarSpec(),
                    StructuredCalendarSpec(minute=[Range(start=0, end=60)]),
                ]
            ),
            "spec.structured_calendar[1].minute: value 60 out of range 0-59",
        ),
        (
            ScheduleSpec(structured_calendar=[StructuredCalendarSpec(second=[Range(step=-1)])]),
            "spec.structured_calendar[0].second: step -1 must not be negative",
        ),
        (
            ScheduleSpec(
                exclude_structured_calendar=[StructuredCalendarSpec(day_of_month=[Range(start=0)])]
            ),
            "spec.exclude_structured_calendar[0].day_of_month: value 0 out of range 1-31",
        ),
        (
            ScheduleSpec(calendar=[CalendarSpec(month="13")]),
            "spec.calendar[0].month: value 13 out of range 1-12",
        ),
        (
            ScheduleSpec(calendar=[CalendarSpec(day_of_week="FUNDAY")]),
            "spec.calendar[0].day_of_week: invalid value 'FUNDAY'",
        ),
        (
            ScheduleSpec(calendar=[CalendarSpec(hour="17-9")]),
            "spec.calendar[0].hour: range '17-9' ends before it starts",
        ),
        (
            ScheduleSpec(calendar=[CalendarSpec(minute="*/0")]),
            "spec.calendar[0].minute: step '0' must be a positive integer",
        ),
        (
            ScheduleSpec(exclude_calendar=[CalendarSpec(hour="1,,2")]),
            "spec.exclude_calendar[0].hour: empty list item in '1,,2'",
        ),
        (
            ScheduleSpec(cron_string=["0 0 * * *", "0 24 * * *"]),
            "spec.cron_string[1].hour: value 24 out of range 0-23",
        ),
        (
            ScheduleSpec(cron_string=["@fortnightly"]),
            "spec.cron_string[0]: unknown shorthand '@fortnightly'",
        ),
        (
            ScheduleSpec(cron_string=["@every 5x"]),
            "spec.cron_string[0]: invalid duration '5x'",
        ),
        (
            ScheduleSpec(interval=[IntervalSpec()]),
            "spec.interval[0].interval: must be at least 1 second",
        ),
        (
            ScheduleSpec(interval=[IntervalSpec(interval=duration(0, 500_000_000))]),
            "spec.interval[0].interval: must be at least 1 second",
        ),
        (
            ScheduleSpec(
                interval=[every(60), IntervalSpec(interval=duration(60), phase=duration(-1))]
            ),
            "spec.interval[1].phase: must not be negative",
        ),
        (
            ScheduleSpec(interval=[every(60)], jitter=duration(-5)),
            "spec.jitter: must not be negative",
        ),
    ],
)
def test_invalid_specs_raise_errors_naming_the_field(spec: ScheduleSpec, message: str) -> None:
    with pytest.raises(ScheduleSpecError) as caught:
        compile_spec(spec)
    assert str(caught.value).startswith(message)
    assert isinstance(caught.value, ValueError)
