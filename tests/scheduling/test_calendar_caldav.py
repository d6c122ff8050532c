"""Syncing a CalDAV calendar from a real Radicale server, events PUT through the caldav
client: recurrences with exceptions and moved occurrences, all-day and multi-day days in
the provider's zone, what does not block, floating times, a Windows zone name, a DST
change; busy times in slots and bookings; the unchanged, stale, disabled and SSRF paths."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import caldav
import pytest
import time_machine
from rest_framework.test import APIClient

from common.errors import DomainError
from notifications import outbound
from notifications.models import Notification
from scheduling.availability import selectors as availability
from scheduling.calendar import sync
from scheduling.calendar.models import BusyInterval, CalendarSource, SourceStatus
from scheduling.models import Appointment, Provider
from tests.factories import ProviderFactory, ServiceFactory
from tests.notifications.test_message_privacy import clinical_words
from tests.scheduling import booking_helpers
from tests.scheduling.caldav_server import PASSWORD, USER, CalDAVServer, radicale_server
from tests.scheduling.calendar_server import calendar_server

pytestmark = pytest.mark.django_db

NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)  # a Monday; the US changes clocks on Mar 14
EMAIL = "dana@clinic.example.org"


def vtimezone(tzid: str) -> str:
    """US Eastern as Outlook writes it (its rules since 2007), under any name."""
    return f"""BEGIN:VTIMEZONE
TZID:{tzid}
BEGIN:STANDARD
DTSTART:16011104T020000
RRULE:FREQ=YEARLY;BYDAY=1SU;BYMONTH=11
TZOFFSETFROM:-0400
TZOFFSETTO:-0500
END:STANDARD
BEGIN:DAYLIGHT
DTSTART:16010311T020000
RRULE:FREQ=YEARLY;BYDAY=2SU;BYMONTH=3
TZOFFSETFROM:-0500
TZOFFSETTO:-0400
END:DAYLIGHT
END:VTIMEZONE
"""


def vcalendar(*events: str, tzid: str = "") -> str:
    zone = vtimezone(tzid) if tzid else ""
    body = "".join(
        f"BEGIN:VEVENT\nDTSTAMP:20270201T000000Z\n{e.strip()}\nEND:VEVENT\n" for e in events
    )
    return f"BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//Tests//EN\n{zone}{body}END:VCALENDAR\n"


NY = "America/New_York"
EVENTS = [
    # Tuesdays 09:00 for six weeks; Mar 9 skipped, Mar 16 moved to 14:00 (after the change).
    vcalendar(
        """UID:weekly@test
DTSTART;TZID=America/New_York:20270302T090000
DTEND;TZID=America/New_York:20270302T100000
RRULE:FREQ=WEEKLY;COUNT=6
EXDATE;TZID=America/New_York:20270309T090000
SUMMARY:Supervision""",
        """UID:weekly@test
RECURRENCE-ID;TZID=America/New_York:20270316T090000
DTSTART;TZID=America/New_York:20270316T140000
DTEND;TZID=America/New_York:20270316T150000
SUMMARY:Supervision (moved)""",
        tzid=NY,
    ),
    # Mondays 10:00 since last year, until Mar 25: only the ones from now on count.
    vcalendar(
        """UID:mondays@test
DTSTART;TZID=America/New_York:20260105T100000
DTEND;TZID=America/New_York:20260105T110000
RRULE:FREQ=WEEKLY;UNTIL=20270325T150000Z
SUMMARY:Team""",
        tzid=NY,
    ),
    # Outlook: a Windows zone name, with its VTIMEZONE.
    vcalendar(
        """UID:outlook@test
DTSTART;TZID=Eastern Standard Time:20270317T110000
DTEND;TZID=Eastern Standard Time:20270317T120000
SUMMARY:Call""",
        tzid="Eastern Standard Time",
    ),
    vcalendar(
        """UID:allday@test
DTSTART;VALUE=DATE:20270304
DTEND;VALUE=DATE:20270305
SUMMARY:Conference"""
    ),
    vcalendar(
        """UID:weekend@test
DTSTART;VALUE=DATE:20270319
DTEND;VALUE=DATE:20270322
SUMMARY:Away"""
    ),
    vcalendar(
        """UID:floating@test
DTSTART:20270305T150000
DTEND:20270305T160000
SUMMARY:Dentist"""
    ),
    vcalendar(
        """UID:free@test
DTSTART:20270305T100000
DTEND:20270305T110000
TRANSP:TRANSPARENT
SUMMARY:Reading"""
    ),
    vcalendar(
        """UID:cancelled@test
DTSTART:20270305T110000
DTEND:20270305T120000
STATUS:CANCELLED
SUMMARY:Lunch"""
    ),
    vcalendar(
        """UID:declined@test
DTSTART:20270305T130000
DTEND:20270305T140000
ORGANIZER:mailto:board@example.org
ATTENDEE;PARTSTAT=DECLINED:mailto:Dana@Clinic.example.org
SUMMARY:Board meeting"""
    ),
    vcalendar(
        """UID:accepted@test
DTSTART:20270308T130000Z
DTEND:20270308T140000Z
ORGANIZER:mailto:board@example.org
ATTENDEE;PARTSTAT=ACCEPTED:mailto:dana@clinic.example.org
SUMMARY:Budget"""
    ),
    # 22:00 EST to 04:00 EDT: the night the clocks go forward, five hours long.
    vcalendar(
        """UID:overnight@test
DTSTART;TZID=America/New_York:20270313T220000
DTEND;TZID=America/New_York:20270314T040000
SUMMARY:Overnight shift""",
        tzid=NY,
    ),
    vcalendar(
        """UID:past@test
DTSTART:20270220T090000Z
DTEND:20270220T100000Z
SUMMARY:Before now"""
    ),
    vcalendar(
        """UID:beyond@test
DTSTART:20270801T090000Z
DTEND:20270801T100000Z
SUMMARY:Beyond the horizon"""
    ),
]


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# Worked out by hand from the events above (not by any code under test).
EXPECTED = [
    (utc(2027, 3, 1, 15), utc(2027, 3, 1, 16)),  # Monday 10:00 EST
    (utc(2027, 3, 2, 14), utc(2027, 3, 2, 15)),  # Tuesday 09:00 EST
    (utc(2027, 3, 4, 5), utc(2027, 3, 5, 5)),  # all day Thursday in New York
    (utc(2027, 3, 5, 20), utc(2027, 3, 5, 21)),  # floating 15:00, the provider's clock
    (utc(2027, 3, 8, 13), utc(2027, 3, 8, 14)),  # accepted, in UTC
    (utc(2027, 3, 8, 15), utc(2027, 3, 8, 16)),  # Monday 10:00 EST
    (utc(2027, 3, 14, 3), utc(2027, 3, 14, 8)),  # overnight across the change
    (utc(2027, 3, 15, 14), utc(2027, 3, 15, 15)),  # Monday 10:00 EDT
    (utc(2027, 3, 16, 18), utc(2027, 3, 16, 19)),  # the moved Tuesday, 14:00 EDT
    (utc(2027, 3, 17, 15), utc(2027, 3, 17, 16)),  # Outlook's 11:00 Eastern, EDT
    (utc(2027, 3, 19, 4), utc(2027, 3, 22, 4)),  # Friday to Sunday, whole days, EDT
    (utc(2027, 3, 22, 14), utc(2027, 3, 22, 15)),  # the last Monday
    (utc(2027, 3, 23, 13), utc(2027, 3, 23, 14)),  # Tuesday 09:00 EDT
    (utc(2027, 3, 30, 13), utc(2027, 3, 30, 14)),
    (utc(2027, 4, 6, 13), utc(2027, 4, 6, 14)),
]


@pytest.fixture(scope="module")
def radicale(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CalDAVServer]:
    with radicale_server(tmp_path_factory.mktemp("radicale")) as server:
        yield server


@pytest.fixture(autouse=True)
def _local_calendars(settings: Any) -> None:
    settings.CALENDAR_ALLOW_PRIVATE_HOSTS = True


@pytest.fixture
def calendar(radicale: CalDAVServer) -> caldav.Calendar:
    return radicale.new_calendar()


def add(calendar: caldav.Calendar, provider: Provider | None = None, **kw: str) -> CalendarSource:
    if provider is None:
        provider = ProviderFactory(email=EMAIL, timezone="America/New_York")
        ServiceFactory(provider=provider, horizon_days=60, min_notice_hours=0)
    fields = {"username": USER, "password": PASSWORD, **kw}
    return sync.add_source(provider=provider, kind="caldav", url=str(calendar.url), **fields)


def busy_of(source: CalendarSource) -> list[tuple[datetime, datetime]]:
    return [(b.start, b.end) for b in BusyInterval.objects.filter(source=source).order_by("start")]


def test_a_caldav_calendar_gives_exactly_the_expected_busy_times(radicale, calendar):
    radicale.put(calendar, *EVENTS)
    source = sync.sync_source(source_id=add(calendar).pk, now=NOW)
    assert (source.status, source.last_error) == (SourceStatus.OK, "")
    assert busy_of(source) == EXPECTED
    assert source.busy_count == len(EXPECTED)


def test_an_unchanged_calendar_is_not_read_again_and_keeps_its_set(radicale, calendar):
    radicale.put(calendar, *EVENTS)
    source = sync.sync_source(source_id=add(calendar).pk, now=NOW)
    first_ids = set(BusyInterval.objects.filter(source=source).values_list("pk", flat=True))
    source = sync.sync_source(source_id=source.pk, now=NOW + timedelta(minutes=10))
    assert source.status == SourceStatus.OK
    # Not replaced: the same rows stand.
    assert set(BusyInterval.objects.filter(source=source).values_list("pk", flat=True)) == first_ids


def test_a_changed_calendar_is_read_again(radicale, calendar):
    radicale.put(calendar, EVENTS[3])
    source = sync.sync_source(source_id=add(calendar).pk, now=NOW)
    radicale.put(calendar, EVENTS[5])
    source = sync.sync_source(source_id=source.pk, now=NOW + timedelta(minutes=10))
    assert busy_of(source) == [
        (utc(2027, 3, 4, 5), utc(2027, 3, 5, 5)),
        (utc(2027, 3, 5, 20), utc(2027, 3, 5, 21)),
    ]


def test_an_unchanged_calendar_still_reaches_the_moving_horizon(radicale, calendar):
    radicale.put(
        calendar,
        vcalendar(
            """UID:daily@test
DTSTART;TZID=America/New_York:20270301T170000
DTEND;TZID=America/New_York:20270301T180000
RRULE:FREQ=DAILY""",
            tzid=NY,
        ),
    )
    source = sync.sync_source(source_id=add(calendar).pk, now=NOW)
    later = NOW + timedelta(days=30)
    source = sync.sync_source(source_id=source.pk, now=later)
    last_start = busy_of(source)[-1][0]
    # 60 days of horizon from the later sync: the newest bookable day is blocked too.
    assert last_start >= later + timedelta(days=60)


def test_the_password_is_sent_only_to_the_server_and_never_logged(radicale, calendar, caplog):
    radicale.put(calendar, EVENTS[3])
    for name in ("", "caldav", "urllib3", "scheduling", "notifications"):
        caplog.set_level(logging.DEBUG, logger=name or None)
    source = sync.sync_source(source_id=add(calendar).pk, now=NOW)
    assert source.status == SourceStatus.OK
    assert PASSWORD not in caplog.text


def test_a_wrong_app_password_disables_the_source_and_emails_the_provider_once(radicale, calendar):
    source = add(calendar, password="revoked-password")
    source = sync.sync_source(source_id=source.pk, now=NOW)
    assert source.status == SourceStatus.DISABLED
    assert "401" in source.last_error
    sync.sync_source(source_id=source.pk, now=NOW + timedelta(minutes=10))
    [email] = Notification.objects.filter(template="calendar_source_disabled")
    assert email.recipient == EMAIL
    assert email.subject == "A calendar you connected stopped syncing"
    assert "/portal/calendar/" in email.body
    assert "revoked-password" not in email.body and str(calendar.url) not in email.body
    assert clinical_words(email.subject + email.body) == []


def test_a_calendar_that_is_gone_is_disabled_and_keeps_its_busy_times(radicale, calendar):
    radicale.put(calendar, EVENTS[3])
    source = sync.sync_source(source_id=add(calendar).pk, now=NOW)
    calendar.delete()
    source = sync.sync_source(source_id=source.pk, now=NOW + timedelta(minutes=10))
    assert source.status == SourceStatus.DISABLED
    assert "404" in source.last_error
    assert busy_of(source) == [(utc(2027, 3, 4, 5), utc(2027, 3, 5, 5))]


def test_an_unreachable_server_keeps_the_set_and_is_retried_later(radicale, calendar):
    radicale.put(calendar, EVENTS[3])
    source = sync.sync_source(source_id=add(calendar).pk, now=NOW)
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    CalendarSource.objects.filter(pk=source.pk).update(
        url=f"http://127.0.0.1:{port}/dana/personal/"
    )
    later = NOW + timedelta(minutes=10)
    source = sync.sync_source(source_id=source.pk, now=later)
    assert source.status == SourceStatus.STALE
    assert "could not be reached" in source.last_error
    assert source.next_attempt_at > later
    assert busy_of(source) == [(utc(2027, 3, 4, 5), utc(2027, 3, 5, 5))]


def test_a_server_that_does_not_speak_caldav_marks_the_source_stale(radicale, calendar):
    radicale.put(calendar, EVENTS[3])
    source = sync.sync_source(source_id=add(calendar).pk, now=NOW)
    with calendar_server(b"not a calendar") as plain:  # answers PROPFIND with 501
        CalendarSource.objects.filter(pk=source.pk).update(url=plain.url)
        source = sync.sync_source(source_id=source.pk, now=NOW + timedelta(minutes=10))
    assert (source.status, source.last_error) == (
        SourceStatus.STALE,
        "The calendar server answered 501.",
    )
    assert source.failure_count == 1
    assert busy_of(source) == [(utc(2027, 3, 4, 5), utc(2027, 3, 5, 5))]


def test_a_private_caldav_address_is_refused_when_added(settings, calendar):
    settings.CALENDAR_ALLOW_PRIVATE_HOSTS = False
    with pytest.raises(DomainError) as refused:
        add(calendar)
    assert refused.value.fields.keys() == {"url"}


def test_a_caldav_host_that_later_resolves_privately_is_refused_at_fetch_time(
    settings, calendar, monkeypatch
):
    real = socket.getaddrinfo
    answers = {"dav.example.org": "93.184.215.14"}

    def getaddrinfo(host: str, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host in answers:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answers[host], port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(outbound.socket, "getaddrinfo", getaddrinfo)
    settings.CALENDAR_ALLOW_PRIVATE_HOSTS = False
    provider = ProviderFactory(email=EMAIL)
    source = sync.add_source(
        provider=provider,
        kind="caldav",
        url="https://dav.example.org/dana/personal/",
        username=USER,
        password=PASSWORD,
    )
    answers["dav.example.org"] = "169.254.169.254"  # rebinding to the metadata address
    source = sync.sync_source(source_id=source.pk, now=NOW)
    assert source.status == SourceStatus.STALE
    assert "private or reserved" in source.last_error


# Slots and bookings, at the booking tests' clock (Mon 2026-03-02 12:00 UTC).


def test_caldav_busy_times_remove_slots_and_refuse_bookings(radicale, calendar):
    service = booking_helpers.make_service(min_notice_hours=0, slot_step_minutes=60)
    radicale.put(
        calendar,
        vcalendar(
            """UID:wed@test
DTSTART;TZID=America/New_York:20260225T102000
DTEND;TZID=America/New_York:20260225T104000
RRULE:FREQ=WEEKLY;COUNT=3
SUMMARY:Standing call""",
            tzid=NY,
        ),
    )
    source = add(calendar, provider=service.provider)
    source = sync.sync_source(source_id=source.pk, now=booking_helpers.NOW)
    assert source.status == SourceStatus.OK
    wed = booking_helpers.WED_10.replace(hour=0)
    found = availability.offered_slots(
        service, start=wed, end=wed + timedelta(days=1), now=booking_helpers.NOW
    )
    starts = {s for s, _ in found}
    assert booking_helpers.WED_10 not in starts and booking_helpers.WED_11 in starts
    with time_machine.travel(booking_helpers.NOW, tick=False):
        refused = booking_helpers.book(APIClient(), service, booking_helpers.WED_10)
        assert refused.status_code == 409, refused.content
        assert refused.json()["code"] == "slot_unavailable"
        assert booking_helpers.book(APIClient(), service, booking_helpers.WED_11).status_code == 201
    assert Appointment.objects.count() == 1
