"""QA: a directory imported by the command answers slots equal to a brute-force reading.

Five providers (New York, Chicago, Denver, Phoenix, Los Angeles) with several windows a
day, overrides, time off, buffers, notice and steps unlike durations; weeks around both
2027 US changes, in the provider's zone and in others, with and without bookings.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.core.management import call_command
from rest_framework.test import APIClient

from scheduling.models import Provider
from tests.factories import AppointmentFactory
from tests.scheduling.qa_reference import QA_PROVIDERS, qa_document, qa_provider, reference_slots

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 25, 12, 7, tzinfo=UTC)
SPRING = (date(2027, 3, 12), date(2027, 3, 16))
FALL = (date(2027, 11, 5), date(2027, 11, 9))


@pytest.fixture
def imported(tmp_path):
    path = tmp_path / "directory.json"
    path.write_text(json.dumps(qa_document()))
    call_command("import_directory", str(path))


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False):
        yield


def api_slots(slug: str, service: str, first: date, last: date, tz: str) -> list[tuple[str, str]]:
    response = APIClient().get(
        f"/api/providers/{slug}/slots/",
        {"service": service, "start": str(first), "end": str(last), "tz": tz},
    )
    assert response.status_code == 200, response.content
    return [(slot["start"], slot["end"]) for slot in response.json()]


CASES = [
    (provider["slug"], service["slug"], provider["timezone"])
    for provider in QA_PROVIDERS
    for service in provider["services"]
]


@pytest.mark.parametrize(("slug", "service", "zone"), CASES)
@pytest.mark.parametrize("days", [SPRING, FALL], ids=["spring-forward", "fall-back"])
def test_slots_across_a_dst_change_match_a_brute_force_reading(
    imported, clock, slug, service, zone, days
):
    expected = reference_slots(
        qa_provider(slug), service, first=days[0], last=days[1], tz=zone, now=NOW
    )

    assert expected, "the case must offer something to compare"
    assert api_slots(slug, service, days[0], days[1], zone) == expected


@pytest.mark.parametrize("tz", ["America/Phoenix", "Asia/Kolkata", "UTC"])
def test_slots_shown_in_another_zone_are_the_same_instants_with_that_zones_offsets(
    imported, clock, tz
):
    expected = reference_slots(
        qa_provider("qa-ny"), "intake", first=SPRING[0], last=SPRING[1], tz=tz, now=NOW
    )

    assert api_slots("qa-ny", "intake", SPRING[0], SPRING[1], tz) == expected


def test_booked_time_widened_by_both_services_buffers_is_not_offered(imported, clock):
    provider = Provider.objects.get(slug="qa-ny")
    short = provider.services.get(slug="short")
    busy_start = datetime(2027, 3, 14, 1, 25, tzinfo=UTC) + timedelta(hours=5)  # 01:25 EST
    appointment = AppointmentFactory(service=short, start=busy_start)
    busy = [(appointment.blocked_start, appointment.blocked_end)]

    expected = reference_slots(
        qa_provider("qa-ny"),
        "intake",
        first=SPRING[0],
        last=SPRING[1],
        tz="America/New_York",
        now=NOW,
        busy=busy,
    )
    free = reference_slots(
        qa_provider("qa-ny"),
        "intake",
        first=SPRING[0],
        last=SPRING[1],
        tz="America/New_York",
        now=NOW,
    )

    assert len(expected) < len(free)
    assert api_slots("qa-ny", "intake", SPRING[0], SPRING[1], "America/New_York") == expected


def test_notice_and_horizon_cut_the_first_and_last_days(imported):
    now = datetime(2026, 12, 6, 3, 0, tzinfo=UTC)  # Saturday 22:00 in New York
    horizon_end = now + timedelta(days=365)
    with time_machine.travel(now, tick=False):
        for first, last in [
            (date(2026, 12, 6), date(2026, 12, 14)),
            (horizon_end.date() - timedelta(days=8), horizon_end.date() + timedelta(days=2)),
        ]:
            for slug, service, zone in CASES:
                expected = reference_slots(
                    qa_provider(slug), service, first=first, last=last, tz=zone, now=now
                )
                assert api_slots(slug, service, first, last, zone) == expected, (slug, service)


def test_next_available_in_the_directory_is_the_first_reference_slot(imported, clock):
    response = APIClient().get("/api/providers/", {"page_size": 25})
    assert response.status_code == 200
    got = {card["slug"]: card["next_available"] for card in response.json()["results"]}

    for provider in QA_PROVIDERS:
        first_service = provider["services"][0]["slug"]
        slots = reference_slots(
            provider,
            first_service,
            first=NOW.date(),
            last=NOW.date() + timedelta(days=10),
            tz="UTC",
            now=NOW,
        )
        expected = datetime.fromisoformat(slots[0][0])
        assert datetime.fromisoformat(got[provider["slug"]]) == expected, provider["slug"]


@pytest.mark.parametrize(
    ("query", "slugs"),
    [
        ({"state": "AZ"}, {"qa-phx"}),
        ({"state": "ny"}, {"qa-ny"}),
        ({"language": "es"}, {"qa-ny", "qa-phx", "qa-la"}),
        ({"insurance": "qa-aetna"}, {"qa-ny", "qa-den", "qa-la"}),
        ({"kind": "therapist"}, {"qa-ny", "qa-la"}),
        ({"accepting": "false"}, {"qa-den"}),
        ({"accepting": "true"}, {"qa-ny", "qa-chi", "qa-phx", "qa-la"}),
        ({"modality": "phone"}, {"qa-ny", "qa-den", "qa-phx"}),
        ({"q": "castellanos"}, {"qa-la"}),
        ({"specialty": "qa-family", "state": "CA", "language": "es"}, {"qa-la"}),
        ({"state": "NY", "kind": "counselor"}, set()),
    ],
)
def test_directory_filters_return_exactly_the_matching_providers(imported, clock, query, slugs):
    response = APIClient().get("/api/providers/", query)

    assert response.status_code == 200
    assert {card["slug"] for card in response.json()["results"]} == slugs
