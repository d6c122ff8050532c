"""Property-based tests of the slot engine's invariants, and agreement with a naive oracle."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scheduling.availability.slots import Rules, Schedule, first_slot, free_slots, renderer

ZONES = [
    ZoneInfo(name)
    for name in (
        "America/New_York",
        "America/Chicago",
        "America/Denver",
        "America/Phoenix",
        "America/Los_Angeles",
        "UTC",
    )
]
# Ranges start near both 2026 US changes (Mar 8, Nov 1) and an ordinary week.
ANCHORS = [date(2026, 3, 6), date(2026, 10, 30), date(2026, 6, 10)]


@st.composite
def windows(draw: st.DrawFn) -> list[tuple[time, time]]:
    """Sorted, non-overlapping wall-clock windows within one day (on 15-minute marks)."""
    marks = sorted(draw(st.sets(st.integers(0, 95), min_size=2, max_size=6)))
    pairs = [(marks[i], marks[i + 1]) for i in range(0, len(marks) - 1, 2)]
    return [(time(a // 4, a % 4 * 15), time(b // 4, b % 4 * 15)) for a, b in pairs]


@st.composite
def intervals(
    draw: st.DrawFn, base: datetime, max_size: int, longest: int
) -> list[tuple[datetime, datetime]]:
    found = []
    for _ in range(draw(st.integers(0, max_size))):
        start = base + timedelta(minutes=draw(st.integers(-24 * 60, 12 * 24 * 60)))
        found.append((start, start + timedelta(minutes=draw(st.integers(1, longest)))))
    return found


@st.composite
def cases(draw: st.DrawFn) -> tuple[Schedule, Rules, datetime, datetime, datetime]:
    zone = draw(st.sampled_from(ZONES))
    anchor = draw(st.sampled_from(ANCHORS))
    base = datetime.combine(anchor, time(0), tzinfo=UTC)
    weekly = {d: draw(windows()) for d in draw(st.sets(st.integers(0, 6), min_size=3))}
    overrides = {
        anchor + timedelta(days=offset): draw(windows())
        for offset in draw(st.sets(st.integers(0, 9), max_size=2))
    }
    capacity = draw(st.sampled_from([1, 1, 1, 3]))
    rules = Rules(
        duration=timedelta(minutes=draw(st.sampled_from([15, 30, 45, 50, 60, 90]))),
        buffer_before=timedelta(minutes=draw(st.sampled_from([0, 0, 5, 15]))),
        buffer_after=timedelta(minutes=draw(st.sampled_from([0, 10, 15]))),
        min_notice=timedelta(hours=draw(st.integers(0, 30))),
        horizon=timedelta(days=draw(st.sampled_from([0, 2, 9, 12, 30]))),
        step=timedelta(minutes=draw(st.sampled_from([15, 20, 30, 60]))),
        capacity=capacity,
    )
    seats: dict[datetime, int] = {}
    if capacity > 1:
        for _ in range(draw(st.integers(0, 3))):
            at = base + timedelta(minutes=15 * draw(st.integers(0, 10 * 96)))
            seats[at] = draw(st.integers(1, capacity))
    schedule = Schedule(
        zone=zone,
        weekly=weekly,
        overrides=overrides,
        time_off=draw(intervals(base, 2, 36 * 60)),
        busy=draw(intervals(base, 8, 4 * 60)),
        seats_taken=seats,
    )
    now = base + timedelta(minutes=draw(st.integers(-2 * 24 * 60, 24 * 60)))
    start = base + timedelta(minutes=draw(st.integers(-24 * 60, 5 * 24 * 60)))
    end = start + timedelta(minutes=draw(st.integers(0, 9 * 24 * 60)))
    return schedule, rules, now, start, end


def local_windows(schedule: Schedule, start: datetime, end: datetime):
    """Every (day, window start UTC, window end UTC) that may hold a slot of the range."""
    day = start.astimezone(schedule.zone).date() - timedelta(days=1)
    while day <= end.astimezone(schedule.zone).date() + timedelta(days=1):
        spans = schedule.overrides.get(day)
        if spans is None:
            spans = schedule.weekly.get(day.weekday(), [])
        for a, b in sorted(spans):
            yield (
                datetime.combine(day, a, tzinfo=schedule.zone).astimezone(UTC),
                datetime.combine(day, b, tzinfo=schedule.zone).astimezone(UTC),
            )
        day += timedelta(days=1)


def overlaps(a: tuple[datetime, datetime], b: tuple[datetime, datetime]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def oracle(schedule: Schedule, rules: Rules, now: datetime, start: datetime, end: datetime):
    """The slow, obvious computation: every step of every window against every interval."""
    reach = rules.duration + rules.buffer_before + rules.buffer_after
    offered = []
    prev_end = None
    for ws, we in local_windows(schedule, start, end):
        floor = ws if prev_end is None else max(ws, prev_end)
        prev_end = we if prev_end is None else max(prev_end, we)
        s = ws
        while s + rules.duration <= we:
            blocked = (s - rules.buffer_before, s + rules.duration + rules.buffer_after)
            ok = (
                s >= floor
                and start <= s < end
                and s >= now + rules.min_notice
                and s <= now + rules.horizon
                and not any(overlaps(blocked, i) for i in [*schedule.busy, *schedule.time_off])
                and schedule.seats_taken.get(s, 0) < rules.capacity
                and not any(
                    abs(t - s) < reach and t != s for t, n in schedule.seats_taken.items() if n
                )
            )
            if ok:
                offered.append((s, s + rules.duration))
            s += rules.step
    return sorted(offered)


SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@settings(SETTINGS, max_examples=200)
@given(cases())
def test_the_engine_agrees_with_the_naive_oracle(case):
    schedule, rules, now, start, end = case
    assert free_slots(schedule, rules, now=now, start=start, end=end) == oracle(
        schedule, rules, now, start, end
    )


@SETTINGS
@given(cases())
def test_no_slot_overlaps_busy_time_or_time_off_with_its_buffers(case):
    schedule, rules, now, start, end = case
    for s, e in free_slots(schedule, rules, now=now, start=start, end=end):
        blocked = (s - rules.buffer_before, e + rules.buffer_after)
        assert not any(overlaps(blocked, busy) for busy in schedule.busy)
        assert not any(overlaps(blocked, off) for off in schedule.time_off)


@SETTINGS
@given(cases())
def test_every_slot_lies_inside_one_window(case):
    schedule, rules, now, start, end = case
    spans = list(local_windows(schedule, start, end))
    for s, e in free_slots(schedule, rules, now=now, start=start, end=end):
        assert e - s == rules.duration
        assert any(ws <= s and e <= we for ws, we in spans)


@SETTINGS
@given(cases())
def test_slots_respect_notice_horizon_and_the_requested_range(case):
    schedule, rules, now, start, end = case
    for s, _ in free_slots(schedule, rules, now=now, start=start, end=end):
        assert now + rules.min_notice <= s <= now + rules.horizon
        assert start <= s < end
        assert s.tzinfo is not None and s.utcoffset() == timedelta(0)


@SETTINGS
@given(cases())
def test_slots_are_sorted_and_distinct(case):
    schedule, rules, now, start, end = case
    starts = [s for s, _ in free_slots(schedule, rules, now=now, start=start, end=end)]
    assert starts == sorted(set(starts))


@SETTINGS
@given(cases())
def test_slots_never_overlap_when_the_step_covers_the_visit(case):
    schedule, rules, now, start, end = case
    if rules.capacity != 1 or rules.step < rules.duration:
        return
    slots = free_slots(schedule, rules, now=now, start=start, end=end)
    assert all(b[0] >= a[1] for a, b in zip(slots, slots[1:], strict=False))


@SETTINGS
@given(cases())
def test_first_slot_is_the_first_offered_slot(case):
    schedule, rules, now, start, end = case
    expected = free_slots(schedule, rules, now=now, start=start, end=end)
    assert first_slot(schedule, rules, now=now, start=start, end=end) == (
        expected[0] if expected else None
    )


RENDER_ZONES = [
    *ZONES,
    ZoneInfo("Australia/Lord_Howe"),  # a half-hour daylight-saving shift
    ZoneInfo("Asia/Kathmandu"),  # +05:45
    ZoneInfo("America/St_Johns"),  # -03:30 with DST
    ZoneInfo("Europe/Dublin"),  # negative DST in tzdata
    ZoneInfo("Africa/Monrovia"),  # -00:44:30 local mean time until 1972
]


@settings(max_examples=300, deadline=None)
@given(
    zone=st.sampled_from(RENDER_ZONES),
    instant=st.datetimes(
        min_value=datetime(1900, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
    ),
    whole_minutes=st.booleans(),
)
def test_the_renderer_writes_exactly_what_isoformat_writes(zone, instant, whole_minutes):
    if whole_minutes:
        instant = instant.replace(second=0, microsecond=0)
    show = renderer(zone)
    assert show(instant) == instant.astimezone(zone).isoformat()
    assert show(instant) == instant.astimezone(zone).isoformat()  # and again, from the caches
