"""The week-by-week slot picker, in the visitor's zone; slots come from scheduling.availability.selectors."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from uuid import UUID

from django.utils import timezone
from django.utils.translation import gettext as _

from common.formatting import (
    format_day,
    format_time,
    format_week,
    format_weekday,
    get_language_code,
)
from scheduling.availability import selectors as availability
from scheduling.models import Service
from scheduling.web.zones import VisitorZone


@dataclass
class Slot:
    start: datetime
    end: datetime
    label: str
    seats_left: int | None = None  # group sessions only

    @property
    def value(self) -> str:
        """The start as an ISO string in UTC: what links and forms carry."""
        return self.start.isoformat()


@dataclass
class Day:
    day: date
    label: str
    slots: list[Slot] = field(default_factory=list)
    is_gap = False


@dataclass(frozen=True)
class Gap:
    """A run of days without a free time, shown as one line ("No times Tue–Wed")."""

    first: date
    last: date
    is_gap = True

    @property
    def label(self) -> str:
        if self.first == self.last:
            return _("No times %(day)s") % {"day": format_weekday(self.first)}
        return _("No times %(first)s–%(last)s") % {
            "first": format_weekday(self.first),
            "last": format_weekday(self.last),
        }


@dataclass
class Week:
    start: date
    days: list[Day]
    previous: date | None
    following: date | None
    next_opening: datetime | None = None
    next_opening_week: date | None = None

    @property
    def is_empty(self) -> bool:
        return not any(day.slots for day in self.days)

    @property
    def rows(self) -> list[Day | Gap]:
        """The days with times, and one Gap for each run of days without (a short list)."""
        rows: list[Day | Gap] = []
        for day in self.days:
            if day.slots:
                rows.append(day)
            elif rows and isinstance(rows[-1], Gap):
                rows[-1] = Gap(rows[-1].first, day.day)
            else:
                rows.append(Gap(day.day, day.day))
        return rows

    @property
    def label(self) -> str:
        end = self.start + timedelta(days=6)
        if get_language_code() != "en":
            return format_week(self.start, end)
        if end.month == self.start.month:
            return f"{self.start:%B} {self.start.day}–{end.day}"
        return f"{self.start:%b} {self.start.day} – {end:%b} {end.day}"


def week_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def parse_week(value: str | None) -> date | None:
    try:
        return week_of(date.fromisoformat(value or ""))
    except ValueError:
        return None


def local_midnight(day: date, zone: VisitorZone) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone.zone)


def default_week(service: Service, zone: VisitorZone) -> date:
    """The week of the first opening, so most visitors see times without paging."""
    first = availability.next_available([service]).get(service.pk)
    if first is None:
        return week_of(zone.today())
    return week_of(first.astimezone(zone.zone).date())


def build_week(
    service: Service,
    zone: VisitorZone,
    week_start: date,
    *,
    now: datetime | None = None,
    exclude_appointment_id: UUID | str | None = None,
) -> Week:
    """One week of free times; `exclude_appointment_id` frees the time being rescheduled."""
    now = now or timezone.now()
    first_week = week_of(zone.today())
    last_week = week_of((now + timedelta(days=service.horizon_days)).astimezone(zone.zone).date())
    week_start = min(max(week_start, first_week), last_week)

    start = local_midnight(week_start, zone)
    end = local_midnight(week_start + timedelta(days=7), zone)
    offered = availability.offered_slots_with_seats(
        service, start=start, end=end, now=now, exclude_appointment_id=exclude_appointment_id
    )

    # Days already over are left out: on a phone they are only scrolling.
    today = zone.today()
    days = [
        Day(day=day, label=format_day(day))
        for day in (week_start + timedelta(days=i) for i in range(7))
        if day >= today
    ]
    by_date = {d.day: d for d in days}
    for slot_start, slot_end, seats in offered:
        local_day = slot_start.astimezone(zone.zone).date()
        if local_day in by_date:
            by_date[local_day].slots.append(
                Slot(
                    slot_start,
                    slot_end,
                    format_time(slot_start, zone.zone),
                    seats if service.is_group else None,
                )
            )

    week = Week(
        start=week_start,
        days=days,
        previous=week_start - timedelta(days=7) if week_start > first_week else None,
        following=week_start + timedelta(days=7) if week_start < last_week else None,
    )
    if week.is_empty:
        later = availability.offered_slots(
            service,
            start=end,
            end=now + timedelta(days=service.horizon_days),
            now=now,
            exclude_appointment_id=exclude_appointment_id,
        )
        if later:
            week.next_opening = later[0][0]
            week.next_opening_week = week_of(later[0][0].astimezone(zone.zone).date())
    return week


def is_offered(
    service: Service, start: datetime, *, exclude_appointment_id: UUID | str | None = None
) -> bool:
    """Whether this exact start is still free (another visitor may have taken it)."""
    return availability.is_offered(service, start, exclude_appointment_id=exclude_appointment_id)
