"""The pure slot engine: explicit cases, daylight-saving changes in both directions."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from scheduling.availability.slots import (
    Rules,
    Schedule,
    first_slot,
    free_slots,
    render,
    renderer,
    seats_left,
)

NY = ZoneInfo("America/New_York")
LA = ZoneInfo("America/Los_Angeles")
PHX = ZoneInfo("America/Phoenix")
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def every_day(start: str, end: str) -> dict[int, list[tuple[time, time]]]:
    return {d: [(time.fromisoformat(start), time.fromisoformat(end))] for d in range(7)}


def rules(**kw: object) -> Rules:
    base: dict[str, object] = {
        "duration": timedelta(minutes=60),
        "step": timedelta(minutes=60),
        "horizon": timedelta(days=400),
    }
    base.update(kw)
    return Rules(**base)  # type: ignore[arg-type]


def local_day(zone: ZoneInfo, day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def local_starts(zone: ZoneInfo, slots: list[tuple[datetime, datetime]]) -> list[str]:
    return [render(start, zone) for start, _ in slots]


def slots_on(schedule: Schedule, r: Rules, day: date, *, now: datetime = NOW) -> list:
    start, end = local_day(schedule.zone, day)
    return free_slots(schedule, r, now=now, start=start, end=end)


# --- unhappy paths first -------------------------------------------------------------------


def test_rules_refuse_a_zero_duration_or_step_or_capacity():
    with pytest.raises(ValueError):
        Rules(duration=timedelta(0))
    with pytest.raises(ValueError):
        Rules(duration=timedelta(minutes=30), step=timedelta(0))
    with pytest.raises(ValueError):
        Rules(duration=timedelta(minutes=30), capacity=0)


def test_a_range_that_ends_before_it_starts_has_no_slots():
    schedule = Schedule(zone=NY, weekly=every_day("09:00", "17:00"))
    start, end = local_day(NY, date(2026, 2, 2))
    assert free_slots(schedule, rules(), now=NOW, start=end, end=start) == []


def test_a_day_without_hours_has_no_slots():
    schedule = Schedule(zone=NY, weekly={0: [(time(9), time(12))]})
    assert slots_on(schedule, rules(), date(2026, 2, 3)) == []  # a Tuesday


def test_an_empty_override_closes_the_day():
    schedule = Schedule(
        zone=NY, weekly=every_day("09:00", "17:00"), overrides={date(2026, 2, 2): []}
    )
    assert slots_on(schedule, rules(), date(2026, 2, 2)) == []
    assert slots_on(schedule, rules(), date(2026, 2, 3)) != []


def test_a_visit_longer_than_the_window_is_never_offered():
    schedule = Schedule(zone=NY, weekly=every_day("09:00", "09:45"))
    assert slots_on(schedule, rules(duration=timedelta(minutes=50)), date(2026, 2, 2)) == []


def test_slots_before_the_minimum_notice_are_not_offered():
    schedule = Schedule(zone=NY, weekly=every_day("09:00", "17:00"))
    now = datetime(2026, 2, 2, 9, 0, tzinfo=NY)  # Monday 09:00 local
    slots = slots_on(schedule, rules(min_notice=timedelta(hours=3)), date(2026, 2, 2), now=now)
    assert local_starts(NY, slots)[0] == "2026-02-02T12:00:00-05:00"


def test_notice_that_falls_between_steps_rounds_up_to_the_next_step():
    schedule = Schedule(zone=NY, weekly=every_day("09:00", "17:00"))
    now = datetime(2026, 2, 2, 9, 10, 7, 5, tzinfo=NY)
    slots = slots_on(schedule, rules(step=timedelta(minutes=30)), date(2026, 2, 2), now=now)
    assert local_starts(NY, slots)[0] == "2026-02-02T09:30:00-05:00"


def test_slots_beyond_the_horizon_are_not_offered():
    schedule = Schedule(zone=NY, weekly=every_day("09:00", "17:00"))
    now = datetime(2026, 2, 1, 10, 0, tzinfo=NY)
    r = rules(horizon=timedelta(days=1))
    assert local_starts(NY, slots_on(schedule, r, date(2026, 2, 2), now=now))[-1] == (
        "2026-02-02T10:00:00-05:00"  # exactly now + horizon is still offered
    )
    assert slots_on(schedule, r, date(2026, 2, 3), now=now) == []


def test_a_busy_interval_blocks_every_slot_it_touches_with_the_buffers():
    busy = [(datetime(2026, 2, 2, 11, 0, tzinfo=NY), datetime(2026, 2, 2, 12, 0, tzinfo=NY))]
    schedule = Schedule(zone=NY, weekly=every_day("09:00", "15:00"), busy=busy)
    r = rules(
        duration=timedelta(minutes=50),
        step=timedelta(minutes=30),
        buffer_before=timedelta(minutes=10),
        buffer_after=timedelta(minutes=10),
    )
    starts = [s[11:16] for s in local_starts(NY, slots_on(schedule, r, date(2026, 2, 2)))]
    # 10:00 would block until 11:00 exactly (free); 10:30 until 11:30 (busy); 12:00 blocks
    # from 11:50 (busy); 12:30 from 12:20 is free.
    assert starts == ["09:00", "09:30", "10:00", "12:30", "13:00", "13:30", "14:00"]


def test_time_off_blocks_like_busy_time_across_days():
    off = [(datetime(2026, 2, 2, 16, 0, tzinfo=NY), datetime(2026, 2, 4, 10, 0, tzinfo=NY))]
    schedule = Schedule(zone=NY, weekly=every_day("09:00", "17:00"), time_off=off)
    assert local_starts(NY, slots_on(schedule, rules(), date(2026, 2, 2)))[-1][11:16] == "15:00"
    assert slots_on(schedule, rules(), date(2026, 2, 3)) == []
    assert local_starts(NY, slots_on(schedule, rules(), date(2026, 2, 4)))[0][11:16] == "10:00"


def test_an_override_replaces_the_weekly_windows_of_that_date():
    schedule = Schedule(
        zone=NY,
        weekly=every_day("09:00", "17:00"),
        overrides={date(2026, 2, 2): [(time(13), time(15)), (time(7), time(8))]},
    )
    starts = [s[11:16] for s in local_starts(NY, slots_on(schedule, rules(), date(2026, 2, 2)))]
    assert starts == ["07:00", "13:00", "14:00"]


def test_slots_step_from_each_window_start():
    schedule = Schedule(zone=NY, weekly={0: [(time(9, 15), time(11)), (time(13, 10), time(15))]})
    r = rules(duration=timedelta(minutes=30), step=timedelta(minutes=45))
    starts = [s[11:16] for s in local_starts(NY, slots_on(schedule, r, date(2026, 2, 2)))]
    assert starts == ["09:15", "10:00", "13:10", "13:55"]


def test_the_requested_range_is_half_open_on_slot_starts():
    schedule = Schedule(zone=NY, weekly=every_day("09:00", "12:00"))
    start = datetime(2026, 2, 2, 10, 0, tzinfo=NY)
    end = datetime(2026, 2, 2, 11, 0, tzinfo=NY)
    slots = free_slots(schedule, rules(), now=NOW, start=start, end=end)
    assert local_starts(NY, slots) == ["2026-02-02T10:00:00-05:00"]


# --- group sessions -------------------------------------------------------------------------


def test_a_group_session_stays_offered_until_its_seats_are_taken():
    at = datetime(2026, 2, 2, 18, 0, tzinfo=NY)
    schedule = Schedule(zone=NY, weekly=every_day("18:00", "19:00"), seats_taken={at: 2})
    assert [s for s, _ in slots_on(schedule, rules(capacity=3), date(2026, 2, 2))] == [at]
    assert seats_left(schedule, rules(capacity=3), at) == 1
    full = Schedule(zone=NY, weekly=every_day("18:00", "19:00"), seats_taken={at: 3})
    assert slots_on(full, rules(capacity=3), date(2026, 2, 2)) == []
    assert seats_left(full, rules(capacity=3), at) == 0


def test_a_group_session_blocks_other_overlapping_starts_of_the_same_service():
    at = datetime(2026, 2, 2, 18, 0, tzinfo=NY)
    schedule = Schedule(zone=NY, weekly=every_day("17:00", "20:00"), seats_taken={at: 1})
    r = rules(capacity=5, step=timedelta(minutes=30))
    starts = [s[11:16] for s in local_starts(NY, slots_on(schedule, r, date(2026, 2, 2)))]
    assert starts == ["17:00", "18:00", "19:00"]


def test_busy_time_blocks_a_group_session_even_with_free_seats():
    at = datetime(2026, 2, 2, 18, 0, tzinfo=NY)
    busy = [(at, at + timedelta(minutes=30))]
    schedule = Schedule(zone=NY, weekly=every_day("18:00", "19:00"), seats_taken={at: 1}, busy=busy)
    assert slots_on(schedule, rules(capacity=5), date(2026, 2, 2)) == []


# --- first_slot ------------------------------------------------------------------------------


def test_first_slot_is_none_when_nothing_is_offered_within_the_horizon():
    schedule = Schedule(zone=NY, weekly={})
    assert first_slot(schedule, rules(horizon=timedelta(days=30)), now=NOW) is None


def test_first_slot_skips_busy_days_and_honours_notice():
    busy = [(datetime(2026, 2, 2, tzinfo=NY), datetime(2026, 2, 4, tzinfo=NY))]
    schedule = Schedule(zone=NY, weekly=every_day("09:00", "17:00"), busy=busy)
    now = datetime(2026, 2, 1, 12, 0, tzinfo=NY)
    slot = first_slot(schedule, rules(min_notice=timedelta(hours=24)), now=now)
    assert slot is not None
    assert render(slot[0], NY) == "2026-02-04T09:00:00-05:00"


def test_first_slot_equals_the_first_of_free_slots():
    schedule = Schedule(zone=LA, weekly={2: [(time(8), time(9))]})
    now = datetime(2026, 3, 1, tzinfo=UTC)
    r = rules(horizon=timedelta(days=30))
    all_slots = free_slots(schedule, r, now=now, start=now, end=now + timedelta(days=31))
    assert first_slot(schedule, r, now=now) == all_slots[0]


# --- daylight-saving time ----------------------------------------------------------------


@pytest.mark.parametrize("zone", [NY, LA])
@pytest.mark.parametrize(
    "before, after", [("2026-03-07", "2026-03-09"), ("2026-10-31", "2026-11-02")]
)
def test_nine_stays_nine_local_on_both_sides_of_a_change(zone, before, after):
    schedule = Schedule(zone=zone, weekly=every_day("09:00", "10:00"))
    first = slots_on(schedule, rules(), date.fromisoformat(before))
    second = slots_on(schedule, rules(), date.fromisoformat(after))
    assert [s.astimezone(zone).time() for s, _ in first + second] == [time(9), time(9)]
    # ...which is a different UTC hour on each side.
    assert first[0][0].astimezone(UTC).hour != second[0][0].astimezone(UTC).hour


def test_phoenix_keeps_the_same_utc_hour_all_year():
    schedule = Schedule(zone=PHX, weekly=every_day("09:00", "10:00"))
    hours = {
        slots_on(schedule, rules(), date.fromisoformat(d))[0][0].hour
        for d in ("2026-01-15", "2026-03-08", "2026-07-01", "2026-11-01", "2026-12-15")
    }
    assert hours == {16}


def test_a_window_across_the_spring_forward_gap_loses_the_missing_hour():
    schedule = Schedule(zone=NY, weekly=every_day("00:00", "05:00"))
    slots = slots_on(schedule, rules(), date(2026, 3, 8))
    assert local_starts(NY, slots) == [
        "2026-03-08T00:00:00-05:00",
        "2026-03-08T01:00:00-05:00",
        "2026-03-08T03:00:00-04:00",
        "2026-03-08T04:00:00-04:00",
    ]
    assert all(end - start == timedelta(hours=1) for start, end in slots)


def test_a_window_across_the_fall_back_repeat_yields_distinct_utc_starts():
    schedule = Schedule(zone=NY, weekly=every_day("00:00", "03:00"))
    slots = slots_on(schedule, rules(), date(2026, 11, 1))
    assert local_starts(NY, slots) == [
        "2026-11-01T00:00:00-04:00",
        "2026-11-01T01:00:00-04:00",
        "2026-11-01T01:00:00-05:00",
        "2026-11-01T02:00:00-05:00",
    ]
    utc = [start for start, _ in slots]
    assert len(set(utc)) == len(utc)
    assert all(b[0] >= a[1] for a, b in zip(slots, slots[1:], strict=False))


def test_a_half_hour_step_through_the_los_angeles_fall_back_never_repeats():
    schedule = Schedule(zone=LA, weekly=every_day("00:30", "02:30"))
    r = rules(duration=timedelta(minutes=30), step=timedelta(minutes=30))
    slots = slots_on(schedule, r, date(2026, 11, 1))
    starts = [s for s, _ in slots]
    assert starts == sorted(set(starts))
    assert len(starts) == 6  # 00:30, 01:00, 01:30 PDT, 01:00, 01:30, 02:00 PST


def test_a_window_starting_in_the_gap_reads_its_edge_with_fold_zero():
    # 02:30 does not exist on 2026-03-08 in New York; fold=0 reads it with the EST offset,
    # i.e. 07:30 UTC, which the clock shows as 03:30 EDT.
    schedule = Schedule(zone=NY, weekly={6: [(time(2, 30), time(5))]})
    slots = slots_on(schedule, rules(), date(2026, 3, 8))
    assert local_starts(NY, slots) == ["2026-03-08T03:30:00-04:00"]


def test_a_window_ending_in_the_fold_ends_at_the_first_occurrence():
    # 01:30 exists twice on 2026-11-01 in New York; fold=0 picks the first (EDT) one.
    schedule = Schedule(zone=NY, weekly={6: [(time(0, 30), time(1, 30))]})
    slots = slots_on(schedule, rules(), date(2026, 11, 1))
    assert [(render(s, NY), render(e, NY)) for s, e in slots] == [
        ("2026-11-01T00:30:00-04:00", "2026-11-01T01:30:00-04:00")
    ]


def test_windows_that_overlap_in_utc_after_the_gap_never_repeat_a_slot():
    # 01:00-02:45 reads as 06:00-07:45 UTC and 03:00-04:00 as 07:00-08:00 UTC: the second
    # window may only start where the first ends, and 07:45 is off its 30-minute step.
    schedule = Schedule(zone=NY, weekly={6: [(time(1), time(2, 45)), (time(3), time(4))]})
    r = rules(duration=timedelta(minutes=30), step=timedelta(minutes=30))
    slots = slots_on(schedule, r, date(2026, 3, 8))
    assert all(b[0] >= a[1] for a, b in zip(slots, slots[1:], strict=False))
    assert [s.astimezone(UTC).strftime("%H:%M") for s, _ in slots] == [
        "06:00",
        "06:30",
        "07:00",
    ]


# --- rendering -------------------------------------------------------------------------------


def test_render_uses_the_offset_in_force_at_that_instant():
    winter = datetime(2026, 1, 15, 14, 0, tzinfo=UTC)
    summer = datetime(2026, 7, 15, 14, 0, tzinfo=UTC)
    show = renderer(NY)
    assert show(winter) == "2026-01-15T09:00:00-05:00"
    assert show(summer) == "2026-07-15T10:00:00-04:00"
    assert renderer(ZoneInfo("UTC"))(summer) == "2026-07-15T14:00:00+00:00"
    assert render(summer, PHX) == "2026-07-15T07:00:00-07:00"


@pytest.mark.parametrize(
    "zone, day",
    [
        (NY, date(2026, 3, 8)),
        (NY, date(2026, 11, 1)),
        (LA, date(2026, 11, 1)),
        (ZoneInfo("Australia/Lord_Howe"), date(2026, 4, 4)),
    ],
)
def test_the_renderer_is_exact_through_a_change_day(zone, day):
    show = renderer(zone)
    instant = datetime.combine(day, time(0), tzinfo=UTC) - timedelta(days=1)
    while instant < datetime.combine(day, time(0), tzinfo=UTC) + timedelta(days=2):
        assert show(instant) == instant.astimezone(zone).isoformat()
        instant += timedelta(minutes=15)


def test_los_angeles_spring_forward_skips_the_missing_hour_with_a_half_hour_step():
    schedule = Schedule(zone=LA, weekly={6: [(time(1), time(4))]})
    r = rules(duration=timedelta(minutes=30), step=timedelta(minutes=30))
    assert local_starts(LA, slots_on(schedule, r, date(2026, 3, 8))) == [
        "2026-03-08T01:00:00-08:00",
        "2026-03-08T01:30:00-08:00",
        "2026-03-08T03:00:00-07:00",
        "2026-03-08T03:30:00-07:00",
    ]


def test_phoenix_has_no_gap_on_the_us_spring_forward_day():
    schedule = Schedule(zone=PHX, weekly={6: [(time(1), time(4))]})
    assert len(slots_on(schedule, rules(), date(2026, 3, 8))) == 3
