"""Busy times from external calendars block slots (with the service's buffers) and bookings,
loaded with the time off in the same query."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from scheduling.availability import selectors as availability
from scheduling.calendar.models import BusyInterval, CalendarSource
from scheduling.models import Appointment, Provider
from tests.factories import ProviderFactory, ServiceFactory
from tests.scheduling.booking_helpers import NOW, WED_10, WED_11, book, make_service

pytestmark = pytest.mark.django_db

NY = ZoneInfo("America/New_York")
WEDNESDAY = date(2026, 3, 4)


def busy(provider: Provider, start: datetime, end: datetime) -> BusyInterval:
    source = CalendarSource.objects.create(
        provider=provider, kind="ical_url", url="https://calendar.example.org/a.ics"
    )
    return BusyInterval.objects.create(source=source, provider=provider, start=start, end=end)


def wednesday_hours(service) -> list[str]:
    day = {
        "start": datetime.combine(WEDNESDAY, time(0), tzinfo=NY),
        "end": datetime.combine(WEDNESDAY + timedelta(days=1), time(0), tzinfo=NY),
    }
    found = availability.offered_slots(service, now=NOW, **day)
    return [s.astimezone(NY).strftime("%H:%M") for s, _ in found]


def hourly(**kw: int):
    provider = ProviderFactory(hours=[(2, "09:00", "13:00")])
    return ServiceFactory(
        provider=provider,
        duration_minutes=60,
        slot_step_minutes=60,
        min_notice_hours=0,
        buffer_before_minutes=kw.get("before", 0),
        buffer_after_minutes=kw.get("after", 0),
    )


def test_a_busy_time_removes_the_slots_it_overlaps():
    service = hourly()
    busy(service.provider, WED_10 + timedelta(minutes=15), WED_10 + timedelta(minutes=30))
    assert wednesday_hours(service) == ["09:00", "11:00", "12:00"]


def test_a_busy_time_keeps_the_service_buffers_clear():
    service = hourly(before=15, after=15)
    busy(service.provider, WED_11, WED_11 + timedelta(minutes=50))
    # 10:00-11:00 needs 11:15 free after it; 12:00 needs 11:45 free before it.
    assert wednesday_hours(service) == ["09:00"]


def test_a_busy_time_of_another_provider_blocks_nothing():
    service = hourly()
    busy(ProviderFactory(), WED_10, WED_11)
    assert wednesday_hours(service) == ["09:00", "10:00", "11:00", "12:00"]


def test_busy_times_cost_no_extra_query():
    service = hourly()
    kw = {"start": NOW, "end": NOW + timedelta(days=7), "now": NOW}
    with CaptureQueriesContext(connection) as without:
        availability.offered_slots(service, **kw)
    busy(service.provider, WED_10, WED_11)
    with CaptureQueriesContext(connection) as with_busy:
        assert len(availability.offered_slots(service, **kw)) == 3
    assert len(with_busy) == len(without)


def test_next_available_skips_a_busy_morning():
    service = hourly()
    busy(service.provider, datetime(2026, 3, 2, 0, tzinfo=UTC), WED_11)
    with CaptureQueriesContext(connection) as queries:
        found = availability.next_available([service], now=NOW)
    assert found[service.pk] == WED_11
    assert len(queries) <= 5


def test_booking_into_a_busy_time_is_409_slot_unavailable():
    service = make_service(min_notice_hours=0)
    busy(service.provider, WED_10 + timedelta(minutes=20), WED_10 + timedelta(minutes=40))
    with time_machine.travel(NOW, tick=False):
        response = book(APIClient(), service, WED_10)
        assert response.status_code == 409, response.content
        assert response.json()["code"] == "slot_unavailable"
        assert book(APIClient(), service, WED_11).status_code == 201
    assert Appointment.objects.count() == 1
