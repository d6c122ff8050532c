"""Syncing an iCal URL from a real local server: recurrences, all-day and floating times,
what does not block, conditional GET, the stale and disabled paths, SSRF refusals."""

from __future__ import annotations

import socket
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from common.errors import DomainError
from notifications import outbound
from scheduling.calendar import fetch, sync
from scheduling.calendar.models import BusyInterval, CalendarSource, SourceStatus
from tests.factories import ProviderFactory, ServiceFactory
from tests.scheduling.calendar_server import CalendarServer, calendar_server

pytestmark = pytest.mark.django_db

NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
EMAIL = "dana@clinic.example.org"

ICS = f"""BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Tests//Outlook-like//EN
BEGIN:VEVENT
UID:weekly@test
DTSTART;TZID=Eastern Standard Time:20270302T090000
DTEND;TZID=Eastern Standard Time:20270302T100000
RRULE:FREQ=WEEKLY;COUNT=6
EXDATE;TZID=Eastern Standard Time:20270309T090000
SUMMARY:Supervision
END:VEVENT
BEGIN:VEVENT
UID:weekly@test
RECURRENCE-ID;TZID=Eastern Standard Time:20270316T090000
DTSTART;TZID=Eastern Standard Time:20270316T140000
DTEND;TZID=Eastern Standard Time:20270316T150000
SUMMARY:Supervision (moved)
END:VEVENT
BEGIN:VEVENT
UID:allday@test
DTSTART;VALUE=DATE:20270304
DTEND;VALUE=DATE:20270305
SUMMARY:Conference
END:VEVENT
BEGIN:VEVENT
UID:floating@test
DTSTART:20270305T150000
DTEND:20270305T160000
SUMMARY:Dentist
END:VEVENT
BEGIN:VEVENT
UID:free@test
DTSTART:20270305T100000
DTEND:20270305T110000
TRANSP:TRANSPARENT
SUMMARY:Reading
END:VEVENT
BEGIN:VEVENT
UID:cancelled@test
DTSTART:20270305T110000
DTEND:20270305T120000
STATUS:CANCELLED
SUMMARY:Lunch
END:VEVENT
BEGIN:VEVENT
UID:declined@test
DTSTART:20270305T130000
DTEND:20270305T140000
ATTENDEE;PARTSTAT=DECLINED:mailto:{EMAIL}
SUMMARY:Board meeting
END:VEVENT
BEGIN:VEVENT
UID:dst@test
DTSTART:20270313T220000
DTEND:20270314T040000
SUMMARY:Overnight shift
END:VEVENT
END:VCALENDAR
""".replace("\n", "\r\n").encode()


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


EXPECTED = [
    (utc(2027, 3, 2, 14), utc(2027, 3, 2, 15)),  # 09:00 EST; 03-09 is an EXDATE
    (utc(2027, 3, 4, 5), utc(2027, 3, 5, 5)),  # all day in New York
    (utc(2027, 3, 5, 20), utc(2027, 3, 5, 21)),  # floating 15:00 in New York
    (utc(2027, 3, 14, 3), utc(2027, 3, 14, 8)),  # 22:00 EST to 04:00 EDT: five hours
    (utc(2027, 3, 16, 18), utc(2027, 3, 16, 19)),  # the moved occurrence, 14:00 EDT
    (utc(2027, 3, 23, 13), utc(2027, 3, 23, 14)),  # 09:00 EDT after the change
    (utc(2027, 3, 30, 13), utc(2027, 3, 30, 14)),
    (utc(2027, 4, 6, 13), utc(2027, 4, 6, 14)),
]


@pytest.fixture(autouse=True)
def _local_calendars(settings: Any) -> None:
    settings.CALENDAR_ALLOW_PRIVATE_HOSTS = True


@pytest.fixture
def server() -> Any:
    with calendar_server(ICS) as s:
        yield s


def add(server: CalendarServer) -> CalendarSource:
    provider = ProviderFactory(email=EMAIL, timezone="America/New_York")
    ServiceFactory(provider=provider, horizon_days=60)
    return sync.add_source(provider=provider, kind="ical_url", url=server.url)


def busy_of(source: CalendarSource) -> list[tuple[datetime, datetime]]:
    return [(b.start, b.end) for b in BusyInterval.objects.filter(source=source).order_by("start")]


def test_a_synced_calendar_stores_exactly_the_busy_times_in_utc(server):
    source = sync.sync_source(source_id=add(server).pk, now=NOW)
    assert source.status == SourceStatus.OK
    assert busy_of(source) == EXPECTED
    assert source.busy_count == len(EXPECTED)
    assert source.last_synced_at == NOW


def test_busy_times_carry_the_provider_for_the_slot_query(server):
    source = sync.sync_source(source_id=add(server).pk, now=NOW)
    assert set(BusyInterval.objects.values_list("provider_id", flat=True)) == {source.provider_id}


def test_an_unchanged_calendar_answers_304_and_keeps_the_set(server):
    source = sync.sync_source(source_id=add(server).pk, now=NOW)
    first_ids = set(BusyInterval.objects.values_list("pk", flat=True))
    source = sync.sync_source(source_id=source.pk, now=NOW)
    assert server.requests[-1]["If-None-Match"] == server.etag
    assert set(BusyInterval.objects.values_list("pk", flat=True)) == first_ids
    assert source.status == SourceStatus.OK


DAILY = b"""BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//Tests//EN\r
BEGIN:VEVENT\r
UID:daily@test\r
DTSTART;TZID=America/New_York:20270301T170000\r
DTEND;TZID=America/New_York:20270301T180000\r
RRULE:FREQ=DAILY\r
END:VEVENT\r
END:VCALENDAR\r
"""


def test_a_304_keeps_the_set_only_while_it_reaches_past_the_moving_horizon(server):
    server.body = DAILY
    source = sync.sync_source(source_id=add(server).pk, now=NOW)
    sync.sync_source(source_id=source.pk, now=NOW + timedelta(days=6))
    assert server.requests[-1]["If-None-Match"] == server.etag  # still covered: 304
    later = NOW + timedelta(days=30)
    source = sync.sync_source(source_id=source.pk, now=later)
    assert "If-None-Match" not in server.requests[-1]  # read whole, expanded again
    assert busy_of(source)[-1][0] >= later + timedelta(days=60)
    assert source.busy_until >= later + timedelta(days=60)


def test_a_changed_calendar_replaces_the_whole_set(server):
    source = sync.sync_source(source_id=add(server).pk, now=NOW)
    server.body = ICS.replace(b"COUNT=6", b"COUNT=1")
    source = sync.sync_source(source_id=source.pk, now=NOW)
    assert (utc(2027, 3, 23, 13), utc(2027, 3, 23, 14)) not in busy_of(source)
    assert (utc(2027, 4, 6, 13), utc(2027, 4, 6, 14)) not in busy_of(source)
    assert source.busy_count == len(busy_of(source)) == 5  # the moved one stays, as in Google


@pytest.mark.parametrize("status", [500, 503, 429])
def test_a_server_error_keeps_the_last_set_and_marks_it_stale(server, status):
    source = sync.sync_source(source_id=add(server).pk, now=NOW)
    server.statuses = [status]
    source = sync.sync_source(source_id=source.pk, now=NOW)
    assert source.status == SourceStatus.STALE
    assert str(status) in source.last_error
    assert busy_of(source) == EXPECTED
    assert source.next_attempt_at > NOW


def test_a_file_that_does_not_parse_keeps_the_last_set_and_marks_it_stale(server):
    source = sync.sync_source(source_id=add(server).pk, now=NOW)
    server.body = b"<html>Sign in to continue</html>"
    source = sync.sync_source(source_id=source.pk, now=NOW)
    assert source.status == SourceStatus.STALE
    assert "does not parse" in source.last_error
    assert busy_of(source) == EXPECTED


def test_a_calendar_larger_than_allowed_is_stale_not_stored(server, monkeypatch):
    monkeypatch.setattr(fetch, "MAX_BYTES", 1000)
    source = sync.sync_source(source_id=add(server).pk, now=NOW)
    assert source.status == SourceStatus.STALE
    assert "larger" in source.last_error
    assert busy_of(source) == []


def test_a_server_trickling_its_answer_is_cut_off_at_the_time_bound(server, monkeypatch):
    monkeypatch.setattr(fetch, "FETCH_TIMEOUT_SECONDS", 1)
    server.trickle_seconds = 30
    started = time.monotonic()
    source = sync.sync_source(source_id=add(server).pk, now=NOW)
    assert time.monotonic() - started < 5
    assert source.status == SourceStatus.STALE
    assert "in time" in source.last_error


def test_repeated_failures_back_off_longer_each_time(server):
    source = add(server)
    server.statuses = [500, 500, 500]
    waits = []
    for _ in range(3):
        source = sync.sync_source(source_id=source.pk, now=NOW)
        waits.append(source.next_attempt_at - NOW)
    assert waits[0] < waits[1] < waits[2]


def test_a_stale_source_is_ok_again_after_a_good_sync(server):
    source = add(server)
    server.statuses = [500]
    sync.sync_source(source_id=source.pk, now=NOW)
    source = sync.sync_source(source_id=source.pk, now=NOW)
    assert source.status == SourceStatus.OK
    assert source.last_error == ""
    assert source.failure_count == 0


@pytest.mark.parametrize("status", [401, 404, 410])
def test_a_gone_or_refusing_calendar_is_disabled_and_keeps_its_set(server, status):
    source = sync.sync_source(source_id=add(server).pk, now=NOW)
    server.statuses = [status]
    source = sync.sync_source(source_id=source.pk, now=NOW)
    assert source.status == SourceStatus.DISABLED
    assert busy_of(source) == EXPECTED
    sync.sync_source(source_id=source.pk, now=NOW)
    assert len(server.requests) == 2  # disabled: never fetched again


def test_an_unreachable_server_marks_the_source_stale(server):
    source = add(server)
    source.url = "http://127.0.0.1:9/closed.ics"
    source.save()
    source = sync.sync_source(source_id=source.pk, now=NOW)
    assert source.status == SourceStatus.STALE
    assert "could not be reached" in source.last_error
    assert "127.0.0.1" not in source.last_error


def test_due_sources_are_the_ones_not_disabled_whose_time_came(server):
    source = add(server)
    disabled = add(server)
    CalendarSource.objects.filter(pk=disabled.pk).update(status=SourceStatus.DISABLED)
    assert sync.due_sources(NOW.replace(year=2030)) == [source.pk]
    assert sync.sync_due_sources(now=NOW.replace(year=2030)) == 1
    assert sync.due_sources(NOW.replace(year=2030)) == []


# --- server-side request forgery, with CALENDAR_ALLOW_PRIVATE_HOSTS off ---


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/calendar.ics",
        "https://10.0.0.1/calendar.ics",
        "https://169.254.169.254/latest/meta-data/",
        "https://[::1]/calendar.ics",
        "http://calendar.example.org/calendar.ics",
        "file:///etc/passwd",
    ],
)
def test_adding_a_private_or_odd_url_is_refused(settings, url):
    settings.CALENDAR_ALLOW_PRIVATE_HOSTS = False
    with pytest.raises(DomainError) as refused:
        sync.add_source(provider=ProviderFactory(), kind="ical_url", url=url)
    assert refused.value.fields.keys() == {"url"}
    assert CalendarSource.objects.count() == 0


@pytest.fixture
def fake_dns(monkeypatch: Any) -> dict[str, str]:
    """Names resolving where a test says; everything else through the real resolver."""
    names: dict[str, str] = {}
    real = socket.getaddrinfo

    def getaddrinfo(host: str, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host in names:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (names[host], port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(outbound.socket, "getaddrinfo", getaddrinfo)
    return names


def test_adding_a_name_that_resolves_to_a_private_address_is_refused(settings, fake_dns):
    settings.CALENDAR_ALLOW_PRIVATE_HOSTS = False
    fake_dns["calendar.evil.example"] = "10.0.0.1"
    with pytest.raises(DomainError) as refused:
        sync.add_source(
            provider=ProviderFactory(), kind="ical_url", url="https://calendar.evil.example/a.ics"
        )
    assert "private or reserved" in refused.value.detail


def test_a_name_that_later_resolves_privately_is_refused_at_fetch_time(settings, fake_dns):
    settings.CALENDAR_ALLOW_PRIVATE_HOSTS = False
    fake_dns["calendar.rebind.example"] = "93.184.216.34"
    source = sync.add_source(
        provider=ProviderFactory(), kind="ical_url", url="https://calendar.rebind.example/a.ics"
    )
    fake_dns["calendar.rebind.example"] = "127.0.0.1"
    source = sync.sync_source(source_id=source.pk, now=NOW)
    assert source.status == SourceStatus.STALE
    assert "private or reserved" in source.last_error


@pytest.mark.parametrize(
    "location",
    ["https://169.254.169.254/latest/meta-data/", "https://10.0.0.1/a.ics", "http://127.0.0.1/"],
)
def test_a_redirect_to_a_private_address_is_refused_before_connecting(
    settings, fake_dns, monkeypatch, location
):
    settings.CALENDAR_ALLOW_PRIVATE_HOSTS = False
    fake_dns["calendar.public.example"] = "93.184.216.34"
    connected: list[str] = []

    def first_hop(target: Any, address: str, *args: Any) -> outbound.Response:
        connected.append(address)
        return outbound.Response(status=302, body=b"", headers={"location": location})

    monkeypatch.setattr(outbound, "_get_once", first_hop)
    source = sync.add_source(
        provider=ProviderFactory(), kind="ical_url", url="https://calendar.public.example/a.ics"
    )
    source = sync.sync_source(source_id=source.pk, now=NOW)
    assert source.status == SourceStatus.STALE
    assert connected == ["93.184.216.34"]
    assert BusyInterval.objects.count() == 0


def test_the_password_and_url_are_encrypted_at_rest(server):
    from django.db import connection

    source = add(server)
    CalendarSource.objects.filter(pk=source.pk).update(password="app-secret")
    with connection.cursor() as cursor:
        cursor.execute("SELECT url, password FROM scheduling_calendarsource")
        url, password = cursor.fetchone()
    assert "127.0.0.1" not in url
    assert "app-secret" not in password


def test_the_admin_form_reads_a_webcal_address_as_https(fake_dns):
    from scheduling.calendar.admin import CalendarSourceForm

    fake_dns["p01-calendars.example"] = "93.184.216.34"
    form = CalendarSourceForm(
        data={
            "provider": ProviderFactory().pk,
            "kind": "ical_url",
            "url": " webcal://p01-calendars.example/a.ics ",
        }
    )

    assert form.is_valid(), form.errors
    assert form.cleaned_data["url"] == "https://p01-calendars.example/a.ics"


def test_a_webcal_address_is_fetched_over_https(fake_dns):
    fake_dns["p01-calendars.example"] = "93.184.216.34"
    source = sync.add_source(
        provider=ProviderFactory(), kind="ical_url", url="webcal://p01-calendars.example/a.ics"
    )
    assert source.url == "https://p01-calendars.example/a.ics"
