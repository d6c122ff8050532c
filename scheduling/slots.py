"""The slot engine: weekly hours, overrides, time off and busy time in; free UTC slots out.

Pure computation, no ORM: `scheduling.availability` loads the rows and calls it.

Time rules, in one place:

- Windows are wall-clock times in the provider's zone. Each window is converted to UTC
  once (never per slot), and slot starts step from the window's UTC start, so 09:00 stays
  09:00 local on both sides of a daylight-saving change, a window crossing the
  spring-forward gap simply has an hour less, and the fall-back repeat yields distinct UTC
  starts.
- A window edge that does not exist (inside the spring-forward gap) or exists twice (inside
  the fall-back repeat) is read with ``fold=0``, as ``datetime.combine(day, t, tzinfo=zone)``
  does: a gap time takes the offset in force *before* the change (02:30 on a New York
  spring-forward day is 07:30 UTC, which the clock shows as 03:30 EDT), a repeated time is
  its first occurrence (01:30 on a fall-back day is 01:30 EDT). If two windows of a day
  then overlap in UTC, the later one starts where the earlier ends, so no two slots repeat.
- Internally every instant is an integer count of microseconds since the Unix epoch: exact,
  and cheap to compare. Conflicts are found by one sorted sweep over the merged busy time,
  jumping past each busy interval rather than testing every slot against every interval.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

Window = tuple[time, time]
Interval = tuple[datetime, datetime]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)
_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Rules:
    """A service's booking rules."""

    duration: timedelta
    buffer_before: timedelta = timedelta(0)
    buffer_after: timedelta = timedelta(0)
    min_notice: timedelta = timedelta(0)
    horizon: timedelta = timedelta(days=60)
    step: timedelta = timedelta(minutes=30)
    capacity: int = 1

    def __post_init__(self) -> None:
        if self.duration <= timedelta(0) or self.step <= timedelta(0):
            raise ValueError("duration and step must be positive")
        if self.capacity < 1:
            raise ValueError("capacity must be at least 1")


@dataclass(frozen=True, slots=True)
class Schedule:
    """A provider's availability as plain data.

    weekly: weekday (0 = Monday) -> windows; overrides: local date -> windows, replacing that
    date's weekly windows ([] = closed). time_off and busy: aware intervals that block fully
    (busy already widened by the appointments' buffers). seats_taken: start -> seats taken
    in this service's group sessions; those appointments are not also in busy.
    """

    zone: ZoneInfo
    weekly: Mapping[int, Sequence[Window]]
    overrides: Mapping[date, Sequence[Window]] = field(default_factory=dict)
    time_off: Sequence[Interval] = ()
    busy: Sequence[Interval] = ()
    seats_taken: Mapping[datetime, int] = field(default_factory=dict)


def _us(instant: datetime) -> int:
    return (instant - _EPOCH) // _US


def _from_us(value: int) -> datetime:
    return _EPOCH + timedelta(microseconds=value)


def _merged(intervals: Sequence[Interval], lo: int, hi: int) -> tuple[list[int], list[int]]:
    """Sorted, disjoint (starts, ends) of the intervals that touch [lo, hi)."""
    spans = sorted((_us(a), _us(b)) for a, b in intervals)
    starts: list[int] = []
    ends: list[int] = []
    for a, b in spans:
        if b <= lo or a >= hi or b <= a:
            continue
        if ends and a <= ends[-1]:
            if b > ends[-1]:
                ends[-1] = b
        else:
            starts.append(a)
            ends.append(b)
    return starts, ends


def _bounds(
    rules: Rules, now: datetime, start: datetime, end: datetime
) -> tuple[datetime, datetime]:
    """[earliest, latest] allowed slot starts; compared before adding so nothing overflows."""
    earliest = start if start - now >= rules.min_notice else now + rules.min_notice
    latest_by_range = end - _US  # the requested range is half-open
    latest = latest_by_range if latest_by_range - now <= rules.horizon else now + rules.horizon
    return earliest, latest


def _iter_slots(
    schedule: Schedule, rules: Rules, now: datetime, start: datetime, end: datetime
) -> Iterator[tuple[int, int]]:
    earliest_dt, latest_dt = _bounds(rules, now, start, end)
    if latest_dt < earliest_dt:
        return
    if not any(schedule.weekly.values()) and not any(schedule.overrides.values()):
        return
    earliest, latest = _us(earliest_dt), _us(latest_dt)
    dur = rules.duration // _US
    step = rules.step // _US
    before = rules.buffer_before // _US
    after = rules.buffer_after // _US
    reach = before + dur + after

    busy_starts, busy_ends = _merged(
        [*schedule.busy, *schedule.time_off], earliest - before, latest + dur + after
    )
    n_busy = len(busy_starts)
    seats = {_us(at): taken for at, taken in schedule.seats_taken.items() if taken > 0}
    session_starts = sorted(seats)
    capacity = rules.capacity

    zone = schedule.zone
    weekly = {day: sorted(windows) for day, windows in schedule.weekly.items()}
    overrides = schedule.overrides
    day = earliest_dt.astimezone(zone).date()
    last_day = latest_dt.astimezone(zone).date()
    prev_end = earliest  # windows never start before this; also clips DST-overlapped windows
    i = 0
    while day <= last_day:
        windows = overrides.get(day)
        windows = weekly.get(day.weekday(), ()) if windows is None else sorted(windows)
        for w_start, w_end in windows:
            ws = _us(datetime.combine(day, w_start, tzinfo=zone))
            we = _us(datetime.combine(day, w_end, tzinfo=zone))
            first = max(ws, prev_end)
            if we > prev_end:
                prev_end = we
            last = min(we - dur, latest)
            if first > last:
                continue
            s = ws + -(-(first - ws) // step) * step  # first step at or after `first`
            while s <= last:
                blocked_start = s - before
                blocked_end = s + dur + after
                while i < n_busy and busy_ends[i] <= blocked_start:
                    i += 1
                if i < n_busy and busy_starts[i] < blocked_end:
                    # Jump to the first step whose blocked start clears this busy interval.
                    s = ws + -(-(busy_ends[i] + before - ws) // step) * step
                    continue
                if session_starts:
                    own = seats.get(s, 0)
                    if own >= capacity:
                        s += step
                        continue
                    near = bisect_left(session_starts, s + reach) - bisect_right(
                        session_starts, s - reach
                    )
                    if near > (1 if own else 0):
                        s += step
                        continue
                yield s, s + dur
                s += step
        day += _DAY


def free_slots(
    schedule: Schedule, rules: Rules, *, now: datetime, start: datetime, end: datetime
) -> list[Interval]:
    """Offered visits [start, end) in UTC whose start lies in [start, end), sorted."""
    return [(_from_us(a), _from_us(b)) for a, b in _iter_slots(schedule, rules, now, start, end)]


def first_slot(
    schedule: Schedule,
    rules: Rules,
    *,
    now: datetime,
    start: datetime | None = None,
    end: datetime | None = None,
) -> Interval | None:
    """The earliest offered visit from `start` (default now) within the horizon, or None."""
    start = now if start is None else start
    if end is None:
        try:
            end = start + rules.horizon + rules.min_notice + _DAY
        except OverflowError:
            end = datetime.max.replace(tzinfo=UTC)
    for a, b in _iter_slots(schedule, rules, now, start, end):
        return _from_us(a), _from_us(b)
    return None


def seats_left(schedule: Schedule, rules: Rules, start: datetime) -> int:
    """Seats still free in the session starting at `start` (capacity for a fresh one)."""
    return max(rules.capacity - schedule.seats_taken.get(start, 0), 0)


def renderer(zone: ZoneInfo) -> Callable[[datetime], str]:
    """An ISO 8601 formatter for instants shown in `zone`; build once, call per instant."""
    if zone.key == "UTC":
        return lambda instant: instant.astimezone(UTC).isoformat()

    def render(instant: datetime) -> str:
        return instant.astimezone(zone).isoformat()

    return render


def render(instant: datetime, zone: ZoneInfo) -> str:
    """`instant` as ISO 8601 with the offset `zone` has at that moment."""
    return instant.astimezone(zone).isoformat()
