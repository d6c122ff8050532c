"""Availability loaded from the database: what blocks a slot, seats, next_available."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from scheduling.availability import selectors as availability
from scheduling.models import DateOverride, TimeOff
from tests.factories import AppointmentFactory, ProviderFactory, ServiceFactory

pytestmark = pytest.mark.django_db

NY = ZoneInfo("America/New_York")
NOW = datetime(2026, 2, 1, 12, 0, tzinfo=UTC)  # a Sunday
MONDAY = date(2026, 2, 2)


def at(day: date, hh_mm: str, zone: ZoneInfo = NY) -> datetime:
    return datetime.combine(day, time.fromisoformat(hh_mm), tzinfo=zone)


def day_range(day: date, zone: ZoneInfo = NY) -> dict[str, datetime]:
    return {"start": at(day, "00:00", zone), "end": at(day + timedelta(days=1), "00:00", zone)}


def hourly_service(**kw: object):
    provider = kw.pop("provider", None) or ProviderFactory(hours=[(0, "09:00", "12:00")])
    defaults = {
        "duration_minutes": 60,
        "slot_step_minutes": 60,
        "buffer_after_minutes": 0,
        "min_notice_hours": 0,
    }
    defaults.update(kw)
    return ServiceFactory(provider=provider, **defaults)


def local_hours(slots: list) -> list[str]:
    return [s[0].astimezone(NY).strftime("%H:%M") for s in slots]


# --- unhappy paths ---------------------------------------------------------------------------


def test_naive_datetimes_are_refused():
    service = hourly_service()
    with pytest.raises(ValueError):
        availability.offered_slots(service, start=datetime(2026, 2, 2), end=datetime(2026, 2, 3))
    with pytest.raises(ValueError):
        availability.is_offered(service, datetime(2026, 2, 2, 14), now=NOW)


def test_an_inactive_service_offers_nothing():
    service = hourly_service(is_active=False)
    assert availability.offered_slots(service, now=NOW, **day_range(MONDAY)) == []
    assert availability.next_available([service], now=NOW) == {service.pk: None}


def test_a_start_off_the_step_is_not_offered():
    service = hourly_service()
    assert not availability.is_offered(service, at(MONDAY, "09:30"), now=NOW)
    assert availability.is_offered(service, at(MONDAY, "10:00"), now=NOW)


def test_a_start_outside_the_hours_is_not_offered():
    service = hourly_service()
    assert not availability.is_offered(service, at(MONDAY, "12:00"), now=NOW)
    assert not availability.is_offered(service, at(MONDAY + timedelta(days=1), "09:00"), now=NOW)


def test_an_active_appointment_of_another_service_blocks_the_provider():
    service = hourly_service()
    other = ServiceFactory(provider=service.provider, duration_minutes=30, buffer_after_minutes=30)
    AppointmentFactory(service=other, start=at(MONDAY, "10:00"))
    slots = availability.offered_slots(service, now=NOW, **day_range(MONDAY))
    assert local_hours(slots) == ["09:00", "11:00"]


def test_a_requested_appointment_blocks_like_a_confirmed_one():
    service = hourly_service()
    AppointmentFactory(service=service, start=at(MONDAY, "09:00"), status="requested")
    assert not availability.is_offered(service, at(MONDAY, "09:00"), now=NOW)


@pytest.mark.parametrize("status", ["cancelled", "attended", "no_show"])
def test_an_inactive_appointment_frees_its_slot(status):
    service = hourly_service()
    AppointmentFactory(service=service, start=at(MONDAY, "09:00"), status=status)
    assert availability.is_offered(service, at(MONDAY, "09:00"), now=NOW)


def test_another_providers_appointment_does_not_block():
    service = hourly_service()
    elsewhere = hourly_service()
    AppointmentFactory(service=elsewhere, start=at(MONDAY, "09:00"))
    assert availability.is_offered(service, at(MONDAY, "09:00"), now=NOW)


def test_the_buffers_of_an_existing_appointment_block_neighbouring_slots():
    service = hourly_service()
    padded = ServiceFactory(
        provider=service.provider, duration_minutes=30, buffer_before_minutes=15
    )
    AppointmentFactory(service=padded, start=at(MONDAY, "11:10"))  # blocked 10:55-11:40
    assert local_hours(availability.offered_slots(service, now=NOW, **day_range(MONDAY))) == [
        "09:00"
    ]


def test_a_reschedule_can_ignore_the_appointment_being_moved():
    service = hourly_service()
    moving = AppointmentFactory(service=service, start=at(MONDAY, "09:00"))
    assert not availability.is_offered(service, at(MONDAY, "09:00"), now=NOW)
    assert availability.is_offered(
        service, at(MONDAY, "09:00"), now=NOW, exclude_appointment_id=moving.pk
    )


def test_time_off_rows_block_their_span():
    service = hourly_service()
    TimeOff.objects.create(
        provider=service.provider, start=at(MONDAY, "08:00"), end=at(MONDAY, "10:30")
    )
    assert local_hours(availability.offered_slots(service, now=NOW, **day_range(MONDAY))) == [
        "11:00"
    ]


def test_override_rows_replace_the_weekly_hours():
    service = hourly_service()
    DateOverride.objects.create(
        provider=service.provider, date=MONDAY, windows=[{"start": "14:00", "end": "16:00"}]
    )
    closed = MONDAY + timedelta(days=7)
    DateOverride.objects.create(provider=service.provider, date=closed, windows=[])
    assert local_hours(availability.offered_slots(service, now=NOW, **day_range(MONDAY))) == [
        "14:00",
        "15:00",
    ]
    assert availability.offered_slots(service, now=NOW, **day_range(closed)) == []


def test_minimum_notice_is_counted_from_now():
    service = hourly_service(min_notice_hours=24)
    now = at(MONDAY, "09:30") - timedelta(days=1)
    assert local_hours(availability.offered_slots(service, now=now, **day_range(MONDAY))) == [
        "10:00",
        "11:00",
    ]


# --- group sessions --------------------------------------------------------------------------


def test_a_group_session_is_offered_with_its_seats_left_until_full():
    provider = ProviderFactory(hours=[(0, "18:00", "19:00")])
    group = hourly_service(provider=provider, capacity=3)
    start = at(MONDAY, "18:00")
    AppointmentFactory.create_batch(2, service=group, start=start)
    assert availability.offered_slots_with_seats(group, now=NOW, **day_range(MONDAY)) == [
        (start, start + timedelta(hours=1), 1)
    ]
    AppointmentFactory(service=group, start=start)
    assert availability.offered_slots(group, now=NOW, **day_range(MONDAY)) == []


def test_a_one_to_one_visit_cannot_take_the_time_of_a_group_session():
    provider = ProviderFactory(hours=[(0, "18:00", "19:00")])
    group = hourly_service(provider=provider, capacity=8)
    single = hourly_service(provider=provider)
    AppointmentFactory(service=group, start=at(MONDAY, "18:00"))
    assert not availability.is_offered(single, at(MONDAY, "18:00"), now=NOW)
    assert availability.is_offered(group, at(MONDAY, "18:00"), now=NOW)


# --- next_available --------------------------------------------------------------------------


def test_next_available_is_none_without_hours():
    service = hourly_service(provider=ProviderFactory(hours=[]))
    assert availability.next_available([service], now=NOW) == {service.pk: None}


def test_next_available_skips_booked_time_per_service():
    la = ZoneInfo("America/Los_Angeles")
    first = hourly_service()
    second = hourly_service(
        provider=ProviderFactory(timezone="America/Los_Angeles", hours=[(1, "08:00", "09:00")])
    )
    AppointmentFactory(service=first, start=at(MONDAY, "09:00"))
    found = availability.next_available([first, second], now=NOW)
    assert found == {
        first.pk: at(MONDAY, "10:00"),
        second.pk: at(MONDAY + timedelta(days=1), "08:00", la),
    }
    assert all(value is None or value.utcoffset() == timedelta(0) for value in found.values())


def test_next_available_takes_the_same_number_of_queries_for_two_or_twenty_providers():
    def count(n: int) -> int:
        services = [hourly_service() for _ in range(n)]
        for service in services:
            AppointmentFactory(service=service, start=at(MONDAY, "09:00"))
        loaded = list(
            type(services[0])
            .objects.select_related("provider")
            .filter(pk__in=[s.pk for s in services])
        )
        with CaptureQueriesContext(connection) as queries:
            found = availability.next_available(loaded, now=NOW)
        assert set(found.values()) == {at(MONDAY, "10:00")}
        return len(queries)

    assert count(2) == count(20) <= 4
