from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.utils.http import http_date

from common.events import Actor
from scheduling.booking import services
from scheduling.calendar import invites as ical
from scheduling.calendar.feeds import feed_token, rotate_feed_token
from tests.factories import AppointmentFactory, PatientFactory, ProviderFactory, ServiceFactory
from tests.scheduling.ical_parsers import parse

pytestmark = pytest.mark.django_db

NY = ZoneInfo("America/New_York")
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)  # a Tuesday


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def feed(clock):
    """A provider with one appointment next Tuesday at 10:00 New York time, and its feed path."""
    provider = ProviderFactory()
    service = ServiceFactory(provider=provider)
    appointment = AppointmentFactory(service=service, start=datetime(2026, 12, 8, 10, tzinfo=NY))
    return provider, service, appointment, f"/calendar/{feed_token(provider=provider)}.ics"


def _etag(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200
    parse(response.content)
    return response["ETag"]


def test_a_stale_etag_gets_the_full_feed(client, feed) -> None:
    *_, path = feed
    response = client.get(path, HTTP_IF_NONE_MATCH='"not-the-current-one"')
    assert response.status_code == 200
    parse(response.content)


def test_the_feed_answers_with_validators_and_private_caching(client, feed) -> None:
    *_, path = feed
    response = client.get(path)
    parse(response.content)
    assert response["ETag"].startswith('"') and response["ETag"].endswith('"')
    assert response["Last-Modified"] == http_date(NOW.timestamp())
    assert response["Cache-Control"].startswith("private")


def test_an_unchanged_feed_is_304_on_if_none_match(client, feed) -> None:
    *_, path = feed
    etag = _etag(client, path)
    response = client.get(path, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 304
    assert response.content == b""
    assert response["ETag"] == etag
    assert response["Cache-Control"].startswith("private")


def test_an_unchanged_feed_is_304_on_if_modified_since(client, feed) -> None:
    *_, path = feed
    last_modified = client.get(path)["Last-Modified"]
    response = client.get(path, HTTP_IF_MODIFIED_SINCE=last_modified)
    assert response.status_code == 304


def test_the_etag_holds_while_nothing_changes_and_for_other_providers_changes(
    client, feed, clock
) -> None:
    *_, path = feed
    etag = _etag(client, path)
    clock.shift(timedelta(minutes=5))
    assert _etag(client, path) == etag

    other = AppointmentFactory(start=datetime(2026, 12, 8, 10, tzinfo=NY))  # another provider
    services.cancel_appointment(appointment=other, actor=Actor.PATIENT)
    PatientFactory()

    assert _etag(client, path) == etag


def test_the_etag_changes_when_an_appointment_is_booked(client, feed, clock) -> None:
    _, service, _, path = feed
    etag = _etag(client, path)
    clock.shift(timedelta(minutes=1))
    AppointmentFactory(service=service, start=datetime(2026, 12, 9, 10, tzinfo=NY))
    assert _etag(client, path) != etag


def test_the_etag_changes_when_an_appointment_is_moved(client, feed, clock) -> None:
    _, _, appointment, path = feed
    etag = _etag(client, path)
    clock.shift(timedelta(minutes=1))
    services.reschedule_appointment(
        appointment=appointment, start=datetime(2026, 12, 8, 11, tzinfo=NY), actor=Actor.PATIENT
    )
    response = client.get(path, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200
    assert response["ETag"] != etag
    event = parse(response.content).ical_event(ical.appointment_uid(appointment.id))
    assert event.decoded("DTSTART") == datetime(2026, 12, 8, 16, tzinfo=UTC)


def test_the_etag_changes_when_an_appointment_is_cancelled(client, feed, clock) -> None:
    _, _, appointment, path = feed
    etag = _etag(client, path)
    clock.shift(timedelta(minutes=1))
    services.cancel_appointment(appointment=appointment, actor=Actor.PATIENT)
    response = client.get(path, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200
    event = parse(response.content).ical_event(ical.appointment_uid(appointment.id))
    assert str(event["STATUS"]) == "CANCELLED"


def test_the_etag_changes_even_when_a_change_lands_in_the_same_instant(client, feed) -> None:
    _, _, appointment, path = feed  # the clock is frozen: updated_at cannot move
    etag = _etag(client, path)
    services.cancel_appointment(appointment=appointment, actor=Actor.PATIENT)
    assert _etag(client, path) != etag


def test_the_etag_changes_when_the_patients_name_changes(client, feed, clock) -> None:
    _, _, appointment, path = feed
    etag = _etag(client, path)
    clock.shift(timedelta(minutes=1))
    appointment.patient.name = "Someone Else"
    appointment.patient.save()
    assert _etag(client, path) != etag


def test_an_old_etag_after_rotation_does_not_open_anything(client, feed) -> None:
    provider, *_, path = feed
    etag = _etag(client, path)
    new_path = f"/calendar/{rotate_feed_token(provider=provider)}.ics"
    assert client.get(path, HTTP_IF_NONE_MATCH=etag).status_code == 404
    response = client.get(new_path, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200
    parse(response.content)


def test_a_repeated_unchanged_request_is_served_without_rendering_again(
    client, feed, clock, monkeypatch
) -> None:
    _, service, _, path = feed
    calls = []
    real = ical.feed_for
    monkeypatch.setattr(ical, "feed_for", lambda *a, **k: calls.append(1) or real(*a, **k))

    first = parse(client.get(path).content).raw
    second = parse(client.get(path).content).raw

    assert second == first and len(calls) == 1
    clock.shift(timedelta(minutes=1))
    AppointmentFactory(service=service, start=datetime(2026, 12, 9, 10, tzinfo=NY))
    assert parse(client.get(path).content).raw != first and len(calls) == 2


def test_the_feed_takes_the_same_number_of_queries_for_any_number_of_appointments(
    client, feed
) -> None:
    _, service, _, path = feed
    group = ServiceFactory(provider=service.provider, capacity=4)

    def count(*, cached: bool = False) -> int:
        from django.core.cache import cache

        if not cached:
            cache.clear()  # measure a full render
        seen = []
        # A wrapper, not connection.queries: the request cycle resets that log.
        with connection.execute_wrapper(lambda execute, *args: seen.append(1) or execute(*args)):
            assert client.get(path).status_code == 200
        return len(seen)

    # Token and fingerprint in one statement, then the rows, then the access log's one INSERT.
    assert count() == 3
    for day in range(10, 22):
        AppointmentFactory(service=service, start=datetime(2026, 12, day, 14, tzinfo=NY))
        AppointmentFactory(service=group, start=datetime(2026, 12, day, 16, tzinfo=NY))
    assert count() == 3
    assert count(cached=True) == 2


def test_the_etag_changes_when_a_groups_capacity_changes(client, feed) -> None:
    provider, *_, path = feed
    group = ServiceFactory(provider=provider, capacity=4)
    AppointmentFactory(service=group, start=datetime(2026, 12, 9, 16, tzinfo=NY))
    etag = _etag(client, path)
    group.capacity = 6
    group.save()
    response = client.get(path, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200
    assert "1 of 6 seats taken" in str(parse(response.content).ical_events()[-1]["SUMMARY"])


def test_a_304_takes_one_query(client, feed) -> None:
    *_, path = feed
    etag = _etag(client, path)
    seen = []
    with connection.execute_wrapper(lambda execute, *args: seen.append(1) or execute(*args)):
        assert client.get(path, HTTP_IF_NONE_MATCH=etag).status_code == 304
    assert len(seen) == 1


def test_the_etag_changes_when_the_far_end_of_the_window_moves_a_day(client, feed, clock) -> None:
    *_, path = feed
    etag = _etag(client, path)
    clock.shift(timedelta(days=1))
    assert _etag(client, path) != etag


def test_an_appointment_entering_the_horizon_appears(client, feed, clock) -> None:
    _, service, _, path = feed  # horizon 60 days
    late = AppointmentFactory(service=service, start=NOW + timedelta(days=62))
    uid = ical.appointment_uid(late.id)
    assert uid not in {str(e["UID"]) for e in parse(client.get(path).content).ical_events()}
    clock.shift(timedelta(days=2))
    assert uid in {str(e["UID"]) for e in parse(client.get(path).content).ical_events()}
