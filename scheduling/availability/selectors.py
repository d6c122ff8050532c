"""Loading availability from the database and asking the slot engine (scheduling.availability.slots).

Every function here reads with a fixed number of queries, however many providers or
services it is given, then computes in plain Python.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

from django.db import connections, router
from django.utils import timezone

from common.timezones import get_zone
from scheduling.availability import slots
from scheduling.availability.rows import Part, union_rows
from scheduling.availability.windows import parse_windows
from scheduling.booking.waitlist.models import OfferStatus
from scheduling.models import (
    ACTIVE_STATUSES,
    Appointment,
    BusyInterval,
    DateOverride,
    Provider,
    Service,
    TimeOff,
    WaitlistOffer,
    WeeklyHours,
)

_DAY = timedelta(days=1)
# next_available's first pass; see its docstring.
FIRST_WINDOW = timedelta(days=3)
_US = timedelta(microseconds=1)
_HOURS, _OVERRIDE, _OFF, _BOOKED = range(4)


@dataclass
class ProviderTimes:
    """One provider's hours, overrides, time off and active appointments, as plain data.

    time_off also holds the busy times synced from the provider's external calendars.
    """

    zone: ZoneInfo
    weekly: dict[int, list[tuple[time, time]]] = field(default_factory=lambda: defaultdict(list))
    overrides: dict[date, list[tuple[time, time]]] = field(default_factory=dict)
    time_off: list[tuple[datetime, datetime]] = field(default_factory=list)
    # (service_id, start, blocked_start, blocked_end) of requested and confirmed appointments
    appointments: list[tuple[int, datetime, datetime, datetime]] = field(default_factory=list)

    def has_hours(self) -> bool:
        """Whether any weekly hours or loaded date override could open a slot."""
        return any(self.weekly.values()) or any(self.overrides.values())

    def schedule_for(self, service: Service) -> slots.Schedule:
        """The engine's view for `service`: a group's own sessions are seats, not busy time."""
        if service.capacity > 1:
            own = service.pk
            busy = [(bs, be) for sid, _, bs, be in self.appointments if sid != own]
            seats = Counter(start for sid, start, _, _ in self.appointments if sid == own)
        else:
            busy = [(bs, be) for _, _, bs, be in self.appointments]
            seats = Counter()
        return slots.Schedule(
            zone=self.zone,
            weekly=self.weekly,
            overrides=self.overrides,
            time_off=self.time_off,
            busy=busy,
            seats_taken=seats,
        )


def rules_for(service: Service) -> slots.Rules:
    return slots.Rules(
        duration=timedelta(minutes=service.duration_minutes),
        buffer_before=timedelta(minutes=service.buffer_before_minutes),
        buffer_after=timedelta(minutes=service.buffer_after_minutes),
        min_notice=timedelta(hours=service.min_notice_hours),
        # Ten years is beyond any real booking horizon and keeps the arithmetic finite.
        horizon=timedelta(days=min(service.horizon_days, 3660)),
        step=timedelta(minutes=service.slot_step_minutes),
        capacity=service.capacity,
    )


def _as_aware(name: str, value: datetime) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise ValueError(f"{name} must be an aware datetime")
    return value


def _aware(value: datetime | str) -> datetime:
    # SQLite hands back naive UTC as text (see _rows); parsing it with the offset
    # appended is several times cheaper than replace(tzinfo=...).
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value + "+00:00")
        except ValueError:  # already carries an offset
            value = datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _clock(value: time | str, _seen: dict[str, time] = {}) -> time:  # noqa: B006 - a cache
    if not isinstance(value, str):
        return value
    found = _seen.get(value)
    if found is None:
        found = _seen[value] = time.fromisoformat(value)
    return found


def _day(value: date | str) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value


def load_times(
    zones: dict[int, str],
    *,
    start: datetime,
    end: datetime,
    exclude_appointment_id: UUID | str | None = None,
    overrides_end: datetime | None = None,
) -> dict[int, ProviderTimes]:
    """Hours, overrides, time off (with calendars' busy times) and active appointments
    touching [start, end): one query. Overrides up to `overrides_end` when later than end
    (a few rows; they tell whether a provider opens at all further on)."""
    ids = list(zones)
    found = {pid: ProviderTimes(zone=get_zone(name)) for pid, name in zones.items()}
    if not ids:
        return found
    ops = connections[router.db_for_read(Appointment)].ops
    since, until = ops.adapt_datetimefield_value(start), ops.adapt_datetimefield_value(end)

    # Local dates differ from UTC dates by less than a day in any zone.
    first_day = ops.adapt_datefield_value((start - _DAY).date())
    last_day = ops.adapt_datefield_value((max(end, overrides_end or end) + _DAY).date())
    # Status is checked in Python rather than in SQL: with it, SQLite's planner picks the
    # status index and scans every confirmed appointment instead of this providers' window.
    where, params = "{blocked_end} > %s AND {blocked_start} < %s", [since, until]
    if exclude_appointment_id is not None:
        where += " AND {id} <> %s"
        pk = Appointment._meta.pk
        assert pk is not None
        params.append(pk.get_db_prep_value(pk.to_python(exclude_appointment_id), ops.connection))
    rows = union_rows(
        [
            Part(_HOURS, (WeeklyHours,), {"number": "weekday", "clock1": "start", "clock2": "end"}),
            Part(
                _OVERRIDE,
                (DateOverride,),
                {"day": "date", "windows": "windows"},
                "{date} >= %s AND {date} <= %s",
                (first_day, last_day),
            ),
            # External calendars' busy times block exactly like time off (with the buffers).
            Part(
                _OFF,
                (TimeOff, BusyInterval),
                {"at1": "start", "at2": "end"},
                "{end} > %s AND {start} < %s",
                (since, until),
            ),
            Part(
                _BOOKED,
                (Appointment, WaitlistOffer),  # a place held for someone counts too
                {
                    "number": "service",
                    "at1": "start",
                    "at2": "blocked_start",
                    "at3": "blocked_end",
                    "status": "status",
                },
                where,
                tuple(params),
            ),
        ],
        ids=ids,
    )
    active = {str(status) for status in ACTIVE_STATUSES} | {str(OfferStatus.HELD)}
    for kind, pid, number, at1, at2, at3, clock1, clock2, day, windows, status in rows:
        times = found[pid]
        if kind == _BOOKED:
            if status in active:
                times.appointments.append((number, _aware(at1), _aware(at2), _aware(at3)))
        elif kind == _HOURS:
            times.weekly[number].append((_clock(clock1), _clock(clock2)))
        elif kind == _OFF:
            times.time_off.append((_aware(at1), _aware(at2)))
        else:
            try:
                parsed = parse_windows(json.loads(windows) if isinstance(windows, str) else windows)
            except ValueError:
                parsed = []  # an unreadable override closes the day, never opens it
            times.overrides[_day(day)] = parsed
    return found


def _zones_of(services: Sequence[Service]) -> dict[int, str]:
    """Provider id -> time zone name, without a query when the providers are loaded."""
    zones: dict[int, str] = {}
    missing: set[int] = set()
    for service in services:
        if Service.provider.is_cached(service):  # type: ignore[attr-defined]
            zones[service.provider_id] = service.provider.timezone
        else:
            missing.add(service.provider_id)
    missing -= set(zones)
    if missing:
        zones.update(Provider.objects.filter(pk__in=missing).values_list("pk", "timezone"))
    return zones


def _reach(service: Service) -> timedelta:
    return timedelta(
        minutes=service.duration_minutes
        + service.buffer_before_minutes
        + service.buffer_after_minutes
    )


def offered_spans(
    service: Service,
    *,
    start: datetime,
    end: datetime,
    now: datetime | None = None,
    exclude_appointment_id: UUID | str | None = None,
) -> list[tuple[int, int, int]]:
    """Offered (start, end, seats_left) as epoch microseconds; see slots.Renderer.from_us."""
    return offered_spans_of(
        [service], start=start, end=end, now=now, exclude_appointment_id=exclude_appointment_id
    )[service.pk]


def offered_spans_of(
    services: Sequence[Service],
    *,
    start: datetime,
    end: datetime,
    now: datetime | None = None,
    exclude_appointment_id: UUID | str | None = None,
) -> dict[int, list[tuple[int, int, int]]]:
    """Service id -> its offered spans, for any number of services in load_times' 4 queries."""
    start, end = _as_aware("start", start), _as_aware("end", end)
    now = _as_aware("now", now or timezone.now())
    found: dict[int, list[tuple[int, int, int]]] = {s.pk: [] for s in services}
    active = [s for s in services if s.is_active]
    if not active or end <= start:
        return found
    reach = max(_reach(s) for s in active)
    times = load_times(
        _zones_of(active),
        start=start - reach,
        end=end + reach,
        exclude_appointment_id=exclude_appointment_id,
    )
    for service in active:
        schedule = times[service.provider_id].schedule_for(service)
        spans = slots.free_spans(schedule, rules_for(service), now=now, start=start, end=end)
        capacity = service.capacity
        if capacity == 1:
            found[service.pk] = [(a, b, 1) for a, b in spans]
        else:
            taken = {slots.to_us(at): n for at, n in schedule.seats_taken.items()}
            found[service.pk] = [(a, b, capacity - taken.get(a, 0)) for a, b in spans]
    return found


def offered_slots_with_seats(
    service: Service,
    *,
    start: datetime,
    end: datetime,
    now: datetime | None = None,
    exclude_appointment_id: UUID | str | None = None,
) -> list[tuple[datetime, datetime, int]]:
    """Offered (start, end, seats_left) in UTC whose start lies in [start, end)."""
    return [
        (slots.from_us(a), slots.from_us(b), seats)
        for a, b, seats in offered_spans(
            service, start=start, end=end, now=now, exclude_appointment_id=exclude_appointment_id
        )
    ]


def offered_slots(
    service: Service,
    *,
    start: datetime,
    end: datetime,
    now: datetime | None = None,
    exclude_appointment_id: UUID | str | None = None,
) -> list[tuple[datetime, datetime]]:
    """Offered visits (start, end) in UTC whose start lies in [start, end), sorted."""
    return [
        (a, b)
        for a, b, _ in offered_slots_with_seats(
            service, start=start, end=end, now=now, exclude_appointment_id=exclude_appointment_id
        )
    ]


def is_offered(
    service: Service,
    start: datetime,
    *,
    now: datetime | None = None,
    exclude_appointment_id: UUID | str | None = None,
) -> bool:
    """Whether a visit of `service` starting exactly at `start` is offered now."""
    start = _as_aware("start", start)
    return bool(
        offered_slots(
            service,
            start=start,
            end=start + _US,
            now=now,
            exclude_appointment_id=exclude_appointment_id,
        )
    )


def next_available(
    services: Iterable[Service], *, now: datetime | None = None
) -> dict[int, datetime | None]:
    """Service id -> start of its first offered slot (UTC) or None; one query (and the
    zones when the providers are not loaded), and one more when some service with hours has no free time in the first days.

    Nearly every provider has a free time within days: the first pass loads only
    FIRST_WINDOW after the shortest notice (a provider with 500 calendar busy times would
    otherwise load them all for the whole horizon); the services still without a slot then
    read the rest.
    """
    now = _as_aware("now", now or timezone.now())
    active = [s for s in services if s.is_active]
    result: dict[int, datetime | None] = {s.pk: None for s in services}
    if not active:
        return result

    def reaches(service: Service) -> datetime:
        # Bounded so a mistyped horizon of 10**6 days cannot ask the database for centuries.
        span = timedelta(hours=service.min_notice_hours) + timedelta(days=service.horizon_days)
        return now + min(span, _DAY * 800)

    reach = max(_reach(s) for s in active)
    zones = _zones_of(active)
    furthest = max(map(reaches, active))
    # Nothing is offered inside the minimum notice: its busy times need not be read.
    earliest = now + min(timedelta(hours=s.min_notice_hours) for s in active)
    first_end = earliest + FIRST_WINDOW
    times = load_times(
        zones, start=earliest - reach, end=min(first_end, furthest) + reach, overrides_end=furthest
    )
    later: list[Service] = []
    for service in active:
        provider_times = times[service.provider_id]
        slot = slots.first_slot(
            provider_times.schedule_for(service), rules_for(service), now=now, end=first_end
        )
        if slot:
            result[service.pk] = slot[0]
        elif reaches(service) > first_end and provider_times.has_hours():
            later.append(service)
    if not later:
        return result
    reach = max(_reach(s) for s in later)
    times = load_times(
        {s.provider_id: zones[s.provider_id] for s in later},
        start=first_end - reach,
        end=max(map(reaches, later)) + reach,
    )
    for service in later:
        schedule = times[service.provider_id].schedule_for(service)
        slot = slots.first_slot(schedule, rules_for(service), now=now, start=first_end)
        result[service.pk] = slot[0] if slot else None
    return result
