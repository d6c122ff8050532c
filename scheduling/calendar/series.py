"""The iCalendar entry of a recurring series: one VEVENT with RRULE, EXDATE and exceptions.

DTSTART is the provider's wall clock with its VTIMEZONE, so every calendar expands the
rule to the booked instants whatever the reader's zone (scheduling.booking.recurrence keeps
the same wall clock). Dates no visit holds (skipped when booked, cancelled since) are
EXDATEs; a moved visit is a VEVENT of the same UID with the RECURRENCE-ID of the date the
rule gives it. SEQUENCE is the series' own, raised by every change (RFC 5546 2.1.4).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone
from icalendar import Calendar, Event

from common.timezones import get_zone
from scheduling.booking.links import manage_url, sealed_manage_url, series_manage_url
from scheduling.booking.recurrence import rule_starts
from scheduling.calendar.invites import (
    METHOD_CANCEL,
    METHOD_REQUEST,
    PRODID,
    FreeText,
    calendar_host,
    invite_summary,
    organizer_address,
    provider_label,
    wall_or_utc,
)
from scheduling.models import Appointment, AppointmentStatus, Series


def series_uid(series: Series) -> str:
    return f"series-{series.id}@{calendar_host()}"


def _calendar(method: str) -> Calendar:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", method)
    return cal


def _common(event: Event, series: Series, now: datetime, link: str) -> None:
    who = provider_label(series.provider, series.patient)
    event.add("uid", series_uid(series))
    event.add("sequence", series.sequence)
    event.add("dtstamp", now)
    event.add("summary", FreeText(invite_summary(series.provider, patient=series.patient)))
    event.add(
        "description",
        FreeText(f"Video appointments with {who}.\nSee, change or cancel them: {link}"),
    )
    event.add("class", "PRIVATE")
    event.add("organizer", organizer_address(series.provider, series.patient))


def _local(value: datetime, zone: ZoneInfo) -> datetime:
    return value.astimezone(zone)


def series_invite(
    series: Series,
    appointments: Sequence[Appointment],
    *,
    now: datetime | None = None,
    manage_link: str | None = None,
) -> bytes:
    """The series as one REQUEST: the rule, its EXDATEs and a VEVENT for each moved visit."""
    now = now or timezone.now()
    zone = get_zone(series.provider.timezone)
    link = manage_link or series_manage_url(series)
    duration = timedelta(minutes=series.service.duration_minutes)
    starts = rule_starts(series.first_start, zone, series.every_weeks, series.count)
    held = {
        a.series_start or a.start: a
        for a in appointments
        if a.status != AppointmentStatus.CANCELLED
    }
    cal = _calendar(METHOD_REQUEST)

    master = Event()
    _common(master, series, now, link)
    master.add("dtstart", _local(starts[0], zone))
    master.add("dtend", _local(starts[0] + duration, zone))
    master.add("rrule", {"freq": "weekly", "interval": series.every_weeks, "count": series.count})
    excluded = [_local(s, zone) for s in starts if s not in held]
    if excluded:
        master.add("exdate", excluded)
    master.add("status", "CONFIRMED")
    master.add("transp", "OPAQUE")
    if appointments:  # the visits of a series share one video room
        master.add("location", appointments[0].video_url)
        master.add("url", appointments[0].video_url)
    cal.add_component(master)

    for original, appointment in sorted(held.items()):
        if appointment.start == original and appointment.end == original + duration:
            continue
        moved = Event()
        _common(moved, series, now, link)
        moved.add("recurrence-id", _local(original, zone))
        moved.add("dtstart", wall_or_utc(appointment.start, zone))
        moved.add("dtend", wall_or_utc(appointment.end, zone))
        moved.add("status", "CONFIRMED")
        moved.add("transp", "OPAQUE")
        cal.add_component(moved)
    cal.add_missing_timezones(
        first_date=date(starts[0].year, 1, 1), last_date=date(starts[-1].year + 2, 1, 1)
    )
    return cal.to_ical()


def occurrence_cancel(
    series: Series,
    appointment: Appointment,
    *,
    now: datetime | None = None,
    manage_link: str | None = None,
) -> bytes:
    """METHOD:CANCEL of one visit of the series (its RECURRENCE-ID), the rest untouched."""
    now = now or timezone.now()
    zone = get_zone(series.provider.timezone)
    cal = _calendar(METHOD_CANCEL)
    event = Event()
    _common(event, series, now, manage_link or series_manage_url(series))
    original = appointment.series_start or appointment.start
    event.add("recurrence-id", _local(original, zone))
    event.add("dtstart", wall_or_utc(appointment.start, zone))
    event.add("dtend", wall_or_utc(appointment.end, zone))
    event.add("status", "CANCELLED")
    cal.add_component(event)
    year = original.astimezone(UTC).year
    cal.add_missing_timezones(first_date=date(year, 1, 1), last_date=date(year + 2, 1, 1))
    return cal.to_ical()


def occurrence_invite(appointment: Appointment, *, sealed: bool = True) -> tuple[bytes, str]:
    """The invite of one visit of a series (a message's, or its download), as (bytes, method).

    The patient's calendar holds the series' entry, not the visit's own: a cancelled visit
    is the CANCEL of its RECURRENCE-ID, any other change the series' REQUEST again. Its link
    is the visit's own (sealed in a message), never the series' token.
    """
    series = Series.objects.select_related("provider", "service", "patient").get(
        appointments=appointment
    )
    link = sealed_manage_url(appointment) if sealed else manage_url(appointment)
    if appointment.status == AppointmentStatus.CANCELLED:
        return occurrence_cancel(series, appointment, manage_link=link), METHOD_CANCEL
    visits = list(Appointment.objects.filter(series=series))
    return series_invite(series, visits, manage_link=link), METHOD_REQUEST
