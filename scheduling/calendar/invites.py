"""iCalendar output: invites (RFC 5545, iTIP RFC 5546, emailed per RFC 6047) and provider feeds.

Calendar entries are seen on lock screens and shared calendars, so every SUMMARY and
DESCRIPTION here is discreet: a person's short name, never a service name, specialty,
provider kind or reason.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta, tzinfo
from email.utils import parseaddr
from typing import NamedTuple
from urllib.parse import quote, urlencode, urlsplit

from django.conf import settings
from django.utils import timezone
from icalendar import Alarm, Calendar, Event, vCalAddress, vDDDTypes, vDuration, vInt, vText, vUri

from common.formatting import short_name
from common.timezones import get_zone
from scheduling.booking.links import manage_url
from scheduling.circle.contact import safe_contact
from scheduling.models import Appointment, AppointmentStatus, Patient, Provider

PRODID = "-//Bridgeway//Bridgeway scheduling 1.0//EN"
METHOD_REQUEST = "REQUEST"
METHOD_CANCEL = "CANCEL"
ALARM_BEFORE = timedelta(minutes=15)
FEED_REFRESH = timedelta(minutes=15)

_EVENT_STATUS: dict[str, str] = {
    AppointmentStatus.REQUESTED: "TENTATIVE",
    AppointmentStatus.CONFIRMED: "CONFIRMED",
    AppointmentStatus.ATTENDED: "CONFIRMED",
    AppointmentStatus.NO_SHOW: "CONFIRMED",
    AppointmentStatus.CANCELLED: "CANCELLED",
}
_UTC_NAMES = frozenset({"UTC", "Etc/UTC", "Etc/UCT", "UCT", "Zulu", "Etc/Zulu", "GMT", "Etc/GMT"})

# Free text (a cancellation reason) goes into a calendar only when it names none of these.
_CLINICAL = re.compile(
    r"addict|opioid|opiate|substance|recover|rehab|detox|therap|counsel|psychiat|methadone|"
    r"buprenorphine|suboxone|naloxone|narcan|overdose|withdraw|treatment|alcohol|drug|"
    r"sobriety|sober|relapse|diagnos|mental|psych|\bAA\b|\bNA\b",
    re.IGNORECASE,
)


class FreeText(vText):
    """A TEXT value for anything a person typed (names, a cancellation reason).

    Escaped by RFC 5545 3.3.11 and nothing else. icalendar 7.3's writer first turns a
    backslash followed by a capital N into a line break (as if the text were already
    escaped), so a reason such as "C:\\New" reached calendars as "C:" and a new line.
    """

    __slots__ = ()
    encoding: str  # set by vText (its slot), which the type hints do not declare

    def to_ical(self) -> bytes:
        escaped = (
            self.replace("\\", "\\\\")
            .replace(";", "\\;")
            .replace(",", "\\,")
            .replace("\r\n", "\\n")
            .replace("\r", "\\n")
            .replace("\n", "\\n")
        )
        return escaped.encode(self.encoding)


def is_discreet(text: str) -> bool:
    """True when free text carries none of the words that would reveal addiction care."""
    return not _CLINICAL.search(text)


def calendar_host() -> str:
    return urlsplit(settings.PUBLIC_BASE_URL).hostname or "bridgeway.invalid"


def appointment_uid(appointment_id: uuid.UUID | str) -> str:
    """The UID an appointment keeps for its whole life, reschedules and cancellation included."""
    return f"{appointment_id}@{calendar_host()}"


def session_uid(session_key: str) -> str:
    """The UID of a group session in a provider feed (all its seats share the session key)."""
    digest = hashlib.sha256(session_key.encode()).hexdigest()[:32]
    return f"session-{digest}@{calendar_host()}"


def event_status(status: str) -> str:
    return _EVENT_STATUS[AppointmentStatus(status)]


def _discreet(patient: Patient | None) -> bool:
    return patient is not None and safe_contact(patient).discreet_names


def provider_label(provider: Provider, patient: Patient | None = None) -> str:
    """'Dana W.'; but 'Hope Recovery Center' would say too much, or the patient asked for none."""
    name = provider.display_name
    return name if is_discreet(name) and not _discreet(patient) else "your provider"


def invite_summary(provider: Provider, *, patient: Patient | None = None) -> str:
    """The entry's title; a patient who asked for discreet names gets no provider's name."""
    return (
        "Your appointment" if _discreet(patient) else f"Appointment with {provider_label(provider)}"
    )


def invite_content_type(method: str) -> str:
    """The MIME type of an emailed invite: RFC 6047 wants the iTIP method repeated here."""
    return f"text/calendar; charset=utf-8; method={method}"


def invite_filename(appointment: Appointment) -> str:
    """appointment-YYYYMMDD.ics, dated as the patient's calendar shows it."""
    local = appointment.start.astimezone(_local_zone(appointment.patient.timezone)[0])
    return f"appointment-{local:%Y%m%d}.ics"


def param_text(text: str) -> str:
    """A name fit for a parameter value (CN) that every parser reads back alike.

    A parameter may hold neither a newline nor a DQUOTE; a backslash or a caret is legal
    but parsers disagree on it (RFC 6868 escaping, backslash escapes), so neither is kept.
    """
    cleaned = text.replace('"', "'").replace("\\", "/").replace("^", "")
    return " ".join(cleaned.split())


def organizer_address(provider: Provider, patient: Patient | None = None) -> vCalAddress:
    # An address like intake@hoperecovery.example would tell too; the service's own then.
    email = provider.email if provider.email and is_discreet(provider.email) else ""
    email = "" if _discreet(patient) else email
    organizer = vCalAddress(f"mailto:{email or parseaddr(settings.DEFAULT_FROM_EMAIL)[1]}")
    organizer.params["CN"] = param_text(provider_label(provider, patient))
    return organizer


def _as_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


def is_ambiguous_or_missing(local: datetime) -> bool:
    """True when a wall-clock time in its zone names no instant or two (DST changes).

    Written with a TZID, 01:30 on the night clocks fall back is read as the first 01:30 by
    every parser (RFC 5545 3.3.5), whichever one was meant; a time inside the spring gap is
    read differently by each. Such a time is written in UTC instead.
    """
    other = local.replace(fold=1 - local.fold)
    if other.utcoffset() != local.utcoffset():
        return True
    return local.astimezone(UTC).astimezone(local.tzinfo).replace(tzinfo=None) != local.replace(
        tzinfo=None
    )


def wall_or_utc(value: datetime, zone: tzinfo) -> datetime:
    """`value` as a local time in `zone`, or in UTC where that local time would be unclear."""
    local = value.astimezone(zone)
    return value.astimezone(UTC) if is_ambiguous_or_missing(local) else local


def _local_zone(name: str) -> tuple[tzinfo, bool]:
    """(tzinfo, needs VTIMEZONE) for a stored IANA name; UTC-like zones are written as UTC."""
    if name in _UTC_NAMES:
        return UTC, False
    return get_zone(name), True


def _invite_description(appointment: Appointment, method: str, link: str) -> str:
    who = provider_label(appointment.provider, appointment.patient)
    if method == METHOD_CANCEL:
        return f"Your appointment with {who} was cancelled.\nDetails and booking again: {link}"
    lines = [f"Video appointment with {who}".rstrip(".") + "."]
    if appointment.status == AppointmentStatus.REQUESTED:
        lines.append("Waiting for the provider to confirm.")
    lines += [
        f"Join: {appointment.video_url}",
        f"Reschedule or cancel: {link}",
    ]
    return "\n".join(lines)


def invite_for(
    appointment: Appointment, *, now: datetime | None = None, manage_link: str | None = None
) -> tuple[bytes, str]:
    """The current invite for an appointment, as (iCalendar bytes, iTIP method).

    METHOD:CANCEL for a cancelled appointment, METHOD:REQUEST for everything else; the UID
    never changes and the booking services raise SEQUENCE on every change of time or status,
    which is what makes calendar clients apply an update or a cancellation.
    """
    now = now or timezone.now()
    cancelled = appointment.status == AppointmentStatus.CANCELLED
    method = METHOD_CANCEL if cancelled else METHOD_REQUEST
    patient = appointment.patient
    zone, needs_vtimezone = _local_zone(patient.timezone)

    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", method)

    event = Event()
    event.add("uid", appointment_uid(appointment.id))
    event.add("sequence", appointment.sequence)
    event.add("dtstamp", now)
    event.add("created", appointment.created_at)
    event.add("last-modified", appointment.updated_at)
    dtstart, dtend = wall_or_utc(appointment.start, zone), wall_or_utc(appointment.end, zone)
    event.add("dtstart", dtstart)
    event.add("dtend", dtend)
    event.add(
        "summary", FreeText(invite_summary(appointment.provider, patient=appointment.patient))
    )
    link = manage_link or manage_url(appointment)  # an emailed invite holds a sealed one
    event.add("description", FreeText(_invite_description(appointment, method, link)))
    event.add("status", event_status(appointment.status))
    event.add("location", appointment.video_url)
    event.add("url", appointment.video_url)
    event.add("class", "PRIVATE")
    event.add("transp", "TRANSPARENT" if cancelled else "OPAQUE")
    event.add("organizer", organizer_address(appointment.provider, appointment.patient))
    if patient.email:
        attendee = vCalAddress(f"mailto:{patient.email}")
        attendee.params["CN"] = param_text(patient.name)
        attendee.params["CUTYPE"] = "INDIVIDUAL"
        attendee.params["ROLE"] = "REQ-PARTICIPANT"
        # The patient booked it (and manages it from the private link): no reply is expected.
        attendee.params["PARTSTAT"] = "ACCEPTED"
        attendee.params["RSVP"] = "FALSE"
        event.add("attendee", attendee)
    if cancelled and appointment.cancel_reason and is_discreet(appointment.cancel_reason):
        event.add("comment", FreeText(appointment.cancel_reason))
    if not cancelled:
        alarm = Alarm()
        alarm.add("uid", f"alarm-{appointment_uid(appointment.id)}")
        alarm.add("action", "DISPLAY")
        alarm.add(
            "description",
            FreeText(invite_summary(appointment.provider, patient=appointment.patient)),
        )
        alarm.add("trigger", -ALARM_BEFORE)
        event.add_component(alarm)
    cal.add_component(event)
    if needs_vtimezone:
        cal.add_missing_timezones(
            first_date=date(dtstart.year, 1, 1), last_date=date(dtend.year + 1, 1, 1)
        )
    return cal.to_ical(), method


def google_calendar_url(appointment: Appointment) -> str:
    """A Google Calendar "add event" link with discreet text.

    The manage link stays out: this URL passes through the browser and Google, and the
    token in it would let anyone holding it cancel the appointment.
    """
    dates = f"{_as_utc(appointment.start):%Y%m%dT%H%M%SZ}/{_as_utc(appointment.end):%Y%m%dT%H%M%SZ}"
    params = {
        "action": "TEMPLATE",
        "text": invite_summary(appointment.provider, patient=appointment.patient),
        "dates": dates,
        "details": (
            f"Join by video: {appointment.video_url}\n"
            "Reschedule or cancel from the link in your confirmation message."
        ),
        "location": appointment.video_url,
    }
    return "https://calendar.google.com/calendar/render?" + urlencode(
        params, safe="/", quote_via=quote
    )


class FeedEntry(NamedTuple):
    """One appointment as the provider feed needs it (plain data, read in one query)."""

    id: uuid.UUID
    start: datetime
    end: datetime
    status: str
    sequence: int
    updated_at: datetime
    patient_name: str
    video_room: str
    session_key: str
    capacity: int
    patient_id: int | None = None  # for the access log, never rendered


FEED_ENTRY_FIELDS = (
    "id",
    "start",
    "end",
    "status",
    "sequence",
    "updated_at",
    "patient__name",
    "video_room",
    "session_key",
    "service__capacity",
    "patient_id",
)


def feed_name(provider: Provider) -> str:
    label = provider_label(provider)
    return "Bridgeway appointments" + (f" ({label})" if label != "your provider" else "")


def feed_for(provider: Provider, entries: Iterable[FeedEntry]) -> bytes:
    """A provider's private feed: one VEVENT per appointment, one per group session.

    Times are UTC, so no VTIMEZONE is needed and no time zone is looked up per event.
    DTSTAMP is the row's last change (RFC 5545 for a calendar without METHOD), so the
    output depends only on the data and can be cached under a fingerprint of it.
    """
    full_names = provider.feed_show_full_names
    video_base = settings.VIDEO_ROOM_BASE_URL
    host = calendar_host()
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("name", FreeText(feed_name(provider)))  # RFC 7986; X-WR-CALNAME for older clients
    cal.add("x-wr-calname", FreeText(feed_name(provider)))
    cal.add("x-wr-timezone", provider.timezone)
    cal.add("refresh-interval", FEED_REFRESH, parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", vDuration(FEED_REFRESH))

    # A group session appears once, where its first seat falls in start order.
    sessions: dict[str, tuple[int, list[FeedEntry]]] = {}
    events: list[Event | None] = []
    for entry in entries:
        if entry.capacity > 1:
            session = sessions.get(entry.session_key)
            if session is None:
                sessions[entry.session_key] = (len(events), [entry])
                events.append(None)
            else:
                session[1].append(entry)
            continue
        name = entry.patient_name if full_names else short_name(entry.patient_name)
        events.append(_feed_event(entry, name, video_base, host))
    for key, (index, seats) in sessions.items():
        events[index] = _session_event(key, seats, full_names, video_base)
    cal.subcomponents.extend(e for e in events if e is not None)
    return cal.to_ical()


# The feed sets typed values directly (what Component.add() ends up storing, minus its
# per-call type inference) and shares the constant ones: same bytes, a fraction of the work.
_SHARED_TEXT = {
    value: vText(value)
    for value in ("CONFIRMED", "TENTATIVE", "CANCELLED", "PRIVATE", "OPAQUE", "TRANSPARENT")
}


def _fill_feed_event(
    event: Event,
    *,
    uid: str,
    changed: datetime,
    sequence: int,
    start: datetime,
    end: datetime,
    summary: str,
    status: str,
    video_url: str,
) -> Event:
    stamp = vDDDTypes(changed.astimezone(UTC))
    event["UID"] = vText(uid)
    event["DTSTAMP"] = stamp
    event["LAST-MODIFIED"] = stamp
    event["SEQUENCE"] = vInt(sequence)
    event["DTSTART"] = vDDDTypes(start.astimezone(UTC))
    event["DTEND"] = vDDDTypes(end.astimezone(UTC))
    event["SUMMARY"] = FreeText(summary)
    event["STATUS"] = _SHARED_TEXT[status]
    event["LOCATION"] = vText(video_url)
    event["URL"] = vUri(video_url)
    event["CLASS"] = _SHARED_TEXT["PRIVATE"]
    event["TRANSP"] = _SHARED_TEXT["TRANSPARENT" if status == "CANCELLED" else "OPAQUE"]
    return event


def _feed_event(entry: FeedEntry, name: str, video_base: str, host: str) -> Event:
    status = _EVENT_STATUS[entry.status]
    if status == "CANCELLED":
        summary = f"Cancelled: appointment with {name}"
    elif status == "TENTATIVE":
        summary = f"Appointment with {name} (to confirm)"
    else:
        summary = f"Appointment with {name}"
    return _fill_feed_event(
        Event(),
        uid=f"{entry.id}@{host}",
        changed=entry.updated_at,
        sequence=entry.sequence,
        start=entry.start,
        end=entry.end,
        summary=summary,
        status=status,
        video_url=video_base + entry.video_room,
    )


def _session_event(
    session_key: str, seats: Sequence[FeedEntry], full_names: bool, video_base: str
) -> Event:
    active = [s for s in seats if s.status != AppointmentStatus.CANCELLED]
    first = active[0] if active else seats[0]
    if not active:
        status = "CANCELLED"
    elif any(s.status != AppointmentStatus.REQUESTED for s in active):
        status = "CONFIRMED"
    else:
        status = "TENTATIVE"
    capacity = first.capacity
    names = sorted(s.patient_name if full_names else short_name(s.patient_name) for s in active)
    summary = f"Group session: {len(active)} of {capacity} seats taken"
    if status == "CANCELLED":
        summary = f"Cancelled: group session (0 of {capacity} seats)"
    event = Event()
    event["DESCRIPTION"] = FreeText(
        f"{len(active)} of {capacity} seats taken."
        + (f"\nParticipants: {', '.join(names)}" if names else "")
    )
    return _fill_feed_event(
        event,
        uid=session_uid(session_key),
        changed=max(s.updated_at for s in seats),
        # Rises whenever a seat is taken or any seat changes (each seat's own SEQUENCE rises).
        sequence=sum(s.sequence + 1 for s in seats),
        start=first.start,
        end=first.end,
        summary=summary,
        status=status,
        video_url=video_base + first.video_room,
    )
