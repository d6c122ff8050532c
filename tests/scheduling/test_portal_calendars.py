"""The portal's calendar page: the provider's external calendars with their last reading,
status and busy count; adding one (iCal address or CalDAV) and removing one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine

from scheduling.calendar.models import BusyInterval, CalendarSource, SourceStatus
from tests.factories import ProviderFactory, UserFactory
from tests.scheduling.calendar_server import calendar_server

pytestmark = pytest.mark.django_db

NOW = datetime(2027, 3, 1, 17, 0, tzinfo=UTC)  # noon in New York
ICS = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//T//EN\r\nEND:VCALENDAR\r\n"


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture(autouse=True)
def _local_calendars(settings: Any) -> None:
    settings.CALENDAR_ALLOW_PRIVATE_HOSTS = True


@pytest.fixture
def provider():
    return ProviderFactory(user=UserFactory(username="dana"), timezone="America/New_York")


@pytest.fixture
def portal(client, provider):
    client.force_login(provider.user)
    return client


def source_of(provider, **fields: Any) -> CalendarSource:
    defaults = {"kind": "ical_url", "url": "https://calendar.example.org/secret-abc/basic.ics"}
    return CalendarSource.objects.create(provider=provider, **{**defaults, **fields})


def add_form(**fields: str) -> dict[str, str]:
    return {f"source-{k}": v for k, v in {"kind": "ical_url", **fields}.items()}


def test_a_private_address_is_refused_with_the_reason_by_the_field(portal, settings):
    settings.CALENDAR_ALLOW_PRIVATE_HOSTS = False
    response = portal.post("/portal/calendar/sources/", add_form(url="https://10.0.0.1/a.ics"))
    assert response.status_code == 400
    assert "private or reserved address" in response.text
    assert CalendarSource.objects.count() == 0


def test_a_caldav_calendar_without_a_user_name_is_refused(portal):
    response = portal.post(
        "/portal/calendar/sources/",
        add_form(kind="caldav", url="https://dav.example.org/cal/", password="x"),
    )
    assert response.status_code == 400
    assert "needs a user name" in response.text
    assert CalendarSource.objects.count() == 0


def test_another_providers_calendar_cannot_be_removed(portal):
    other = source_of(ProviderFactory())
    response = portal.post(f"/portal/calendar/sources/{other.pk}/remove/")
    assert response.status_code == 404
    assert CalendarSource.objects.filter(pk=other.pk).exists()


def test_the_provider_adds_an_ical_address_and_its_first_reading_is_queued_once(
    portal, provider, django_capture_on_commit_callbacks, monkeypatch
):
    queued: list[int] = []
    monkeypatch.setattr("scheduling.calendar.sync.enqueue_sync", queued.append)
    with calendar_server(ICS) as server, django_capture_on_commit_callbacks(execute=True):
        response = portal.post(
            "/portal/calendar/sources/", add_form(url=server.url, name="Personal")
        )
    assert response.status_code == 302
    source = CalendarSource.objects.get(provider=provider)
    assert (source.kind, source.name) == ("ical_url", "Personal")
    assert queued == [source.pk]
    page = portal.get("/portal/calendar/").text
    assert "Calendar added." in page and "Waiting for its first reading." in page


def test_the_provider_adds_a_caldav_calendar_with_an_app_password_never_shown_again(
    portal, provider
):
    fields = add_form(
        kind="caldav", url="https://127.0.0.1/dav/cal/", username="dana", password="s3cret-app"
    )
    assert portal.post("/portal/calendar/sources/", fields).status_code == 302
    source = CalendarSource.objects.get(provider=provider)
    assert (source.kind, source.username, source.password) == ("caldav", "dana", "s3cret-app")
    assert "s3cret-app" not in portal.get("/portal/calendar/").text


def test_the_page_lists_each_calendar_with_status_last_reading_and_busy_count(portal, provider):
    source_of(provider, name="Personal", last_synced_at=NOW - timedelta(minutes=5), busy_count=42)
    source_of(
        provider,
        url="https://outlook.example.com/owa/calendar.ics",
        status=SourceStatus.STALE,
        last_error="The calendar server answered 503.",
        next_attempt_at=NOW + timedelta(minutes=20),
        busy_count=7,
    )
    source_of(
        provider,
        kind="caldav",
        url="https://dav.example.org/cal/",
        status=SourceStatus.DISABLED,
        last_error="The calendar server answered 401: the address is gone or refused.",
    )
    page = portal.get("/portal/calendar/").text
    assert "Personal" in page and "Up to date." in page
    assert "Mon Mar 1, 11:55 AM EST" in page  # the last reading, in the provider's zone
    assert '<span class="busy-count">42</span>' in page
    assert '<span class="busy-count">7</span>' in page
    assert "Out of date.</strong> The calendar server answered 503." in page
    assert "next try Mon Mar 1, 12:20 PM EST" in page
    assert "Turned off.</strong> The calendar server answered 401" in page
    assert "outlook.example.com" in page
    assert "secret-abc" not in page and "/owa/calendar.ics" not in page  # secret addresses


def test_removing_a_calendar_removes_its_busy_times(portal, provider):
    source = source_of(provider)
    BusyInterval.objects.create(
        source=source, provider=provider, start=NOW, end=NOW + timedelta(hours=1)
    )
    response = portal.post(f"/portal/calendar/sources/{source.pk}/remove/", follow=True)
    assert "Calendar removed." in response.text
    assert not CalendarSource.objects.exists() and not BusyInterval.objects.exists()
