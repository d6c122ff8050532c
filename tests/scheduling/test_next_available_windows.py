"""next_available reads the first days first (issue 16: a provider with hundreds of calendar
busy times would otherwise load them all); its answers are those of one whole-horizon pass."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from scheduling.availability import selectors as availability
from scheduling.availability import slots
from scheduling.calendar.models import BusyInterval, CalendarSource
from scheduling.models import DateOverride, Provider, Service
from tests.factories import ProviderFactory, ServiceFactory

pytestmark = pytest.mark.django_db

NY = ZoneInfo("America/New_York")
NOW = datetime(2026, 2, 1, 12, 0, tzinfo=UTC)  # a Sunday


def hourly(provider: Provider | None = None, **kw: int) -> Service:
    return ServiceFactory(
        provider=provider or ProviderFactory(hours=[(d, "09:00", "12:00") for d in range(5)]),
        duration_minutes=60,
        slot_step_minutes=60,
        min_notice_hours=kw.get("notice", 0),
        horizon_days=kw.get("horizon", 30),
        buffer_after_minutes=0,
    )


def busy(provider: Provider, start: datetime, end: datetime) -> None:
    source = CalendarSource.objects.filter(provider=provider).first()
    if source is None:
        source = CalendarSource.objects.create(
            provider=provider, kind="ical_url", url="https://calendar.example.org/a.ics"
        )
    BusyInterval.objects.create(source=source, provider=provider, start=start, end=end)


def one_pass(service: Service) -> datetime | None:
    """The reference: everything of the whole horizon loaded at once."""
    times = availability.load_times(
        {service.provider_id: service.provider.timezone},
        start=NOW - timedelta(days=1),
        end=NOW + timedelta(days=service.horizon_days + 2),
    )[service.provider_id]
    found = slots.first_slot(times.schedule_for(service), availability.rules_for(service), now=NOW)
    return found[0] if found else None


def test_a_provider_busy_for_the_first_week_is_found_after_it():
    service = hourly()
    busy(service.provider, NOW, NOW + timedelta(days=7))
    found = availability.next_available([service], now=NOW)
    assert found[service.pk] == datetime(2026, 2, 9, 9, tzinfo=NY)  # the next Monday


def test_a_provider_open_only_on_a_later_date_is_found():
    service = hourly(provider=ProviderFactory(hours=[]))
    DateOverride.objects.create(
        provider=service.provider,
        date=date(2026, 2, 20),
        windows=[{"start": "13:00", "end": "14:00"}],
    )
    found = availability.next_available([service], now=NOW)
    assert found[service.pk] == datetime(2026, 2, 20, 13, tzinfo=NY)


def test_a_notice_longer_than_the_first_days_is_kept():
    service = hourly(notice=24 * 5)
    assert availability.next_available([service], now=NOW)[service.pk] == datetime(
        2026, 2, 6, 9, tzinfo=NY
    )


def test_providers_free_in_the_first_days_cost_one_pass_of_queries():
    services = [hourly() for _ in range(5)]
    with CaptureQueriesContext(connection) as queries:
        availability.next_available(services, now=NOW)
    assert len(queries) <= 5


def test_a_provider_busy_longer_than_the_first_days_costs_one_more_pass():
    services = [hourly() for _ in range(5)]
    busy(services[0].provider, NOW, NOW + timedelta(days=10))
    with CaptureQueriesContext(connection) as queries:
        availability.next_available(services, now=NOW)
    assert len(queries) <= 9


def test_the_answers_are_those_of_one_whole_horizon_pass():
    rng = random.Random(16)
    services = []
    for _ in range(12):
        service = hourly(notice=rng.choice([0, 24, 80]), horizon=rng.choice([2, 4, 30]))
        # Busy straight through a few days (either side of the first window's end), then
        # scattered hours.
        solid = timedelta(days=rng.choice([0, 1, 2, 3, 4, 6]), hours=rng.randint(0, 23))
        busy(service.provider, NOW, NOW + solid)
        origin = datetime.combine(NOW.date(), time(0), tzinfo=UTC) + solid
        for h in rng.sample(range(24 * 12), rng.choice([0, 40, 200])):
            busy(service.provider, origin + timedelta(hours=h), origin + timedelta(hours=h + 1))
        services.append(service)
    found = availability.next_available(services, now=NOW)
    assert found == {s.pk: one_pass(s) for s in services}
    assert len(set(found.values())) > 3  # varied enough to mean something
