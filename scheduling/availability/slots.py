"""The slot engine: weekly hours, overrides, time off and busy time in; free UTC slots out.

Pure computation, no ORM: `scheduling.availability.selectors` loads the rows and calls it.

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
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

Window = tuple[time, time]
Interval = tuple[datetime, datetime]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)
_DAY = timedelta(days=1)
_DAY_US = 86_400_000_000


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


def free_spans(
    schedule: Schedule, rules: Rules, *, now: datetime, start: datetime, end: datetime
) -> list[tuple[int, int]]:
    """free_slots as microseconds since the epoch, for hot paths that format them directly."""
    return list(_iter_slots(schedule, rules, now, start, end))


def to_us(instant: datetime) -> int:
    """An aware instant as integer microseconds since the Unix epoch."""
    return _us(instant)


def from_us(value: int) -> datetime:
    """Integer microseconds since the Unix epoch as an aware UTC datetime."""
    return _from_us(value)


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


class Renderer:
    """ISO 8601 text of instants as shown in one zone; build once per call site, then call.

    Slots share a handful of dates, times of day and offsets, so the pieces are cached and
    joined: several times cheaper than astimezone().isoformat() per instant, same text.
    """

    def __init__(self, zone: ZoneInfo) -> None:
        self.zone = zone
        self._day_offset: dict[int, int | None] = {}  # UTC day -> offset (None: changes)
        self._dates: dict[int, str] = {}
        self._clock: dict[int, str] = {}
        self._suffix: dict[int, str] = {}
        self._seen: dict[int, str] = {}

    def __call__(self, instant: datetime) -> str:
        return self.from_us(_us(instant))

    def from_us(self, value: int) -> str:
        text = self._seen.get(value)  # a slot's end is often a later slot's start
        if text is None:
            if len(self._seen) > 50_000:  # bounded, should one renderer live long
                self._seen.clear()
            text = self._seen[value] = self._format(value)
        return text

    def _format(self, value: int) -> str:
        utc_day = value // _DAY_US
        offset = self._day_offset.get(utc_day, -1)
        if offset == -1:
            offset = self._offset_of_day(utc_day)
        if offset is None:  # an offset change (or an odd offset) that day: the exact way
            return _from_us(value).astimezone(self.zone).isoformat()
        local = value + offset
        day, of_day = divmod(local, _DAY_US)
        seconds, micros = divmod(of_day, 1_000_000)
        if micros:
            return _from_us(value).astimezone(self.zone).isoformat()
        date_text = self._dates.get(day)
        if date_text is None:
            date_text = self._dates[day] = (_EPOCH.date() + timedelta(days=day)).isoformat() + "T"
        clock = self._clock.get(seconds)
        if clock is None:
            h, rest = divmod(seconds, 3600)
            clock = self._clock[seconds] = f"{h:02d}:{rest // 60:02d}:{rest % 60:02d}"
        suffix = self._suffix.get(offset)
        if suffix is None:
            sign = "-" if offset < 0 else "+"
            h, rest = divmod(abs(offset) // 60_000_000, 60)
            suffix = self._suffix[offset] = f"{sign}{h:02d}:{rest:02d}"
        return date_text + clock + suffix

    def _offset_of_day(self, utc_day: int) -> int | None:
        begin = _from_us(utc_day * _DAY_US)
        first = begin.astimezone(self.zone).utcoffset()
        last = (begin + _DAY - _US).astimezone(self.zone).utcoffset()
        found: int | None = None
        # Offsets with seconds (old local mean times) are left to isoformat().
        if first is not None and first == last and not first // _US % 60_000_000:
            found = first // _US
        self._day_offset[utc_day] = found
        return found


def renderer(zone: ZoneInfo) -> Renderer:
    """An ISO 8601 formatter for instants shown in `zone`; build once, call per instant."""
    return Renderer(zone)


def render(instant: datetime, zone: ZoneInfo) -> str:
    """`instant` as ISO 8601 with the offset `zone` has at that moment."""
    return instant.astimezone(zone).isoformat()
