"""/fhir/ metadata, directory resources and slots: valid R4, paginated, signed-in only."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from tests.factories import ServiceFactory, UserFactory
from tests.fhir.conftest import SPECIALTY, valid

pytestmark = pytest.mark.django_db

WEEK = {"start": ["ge2026-03-04", "lt2026-03-07"]}


def test_metadata_lists_exactly_the_resources_served():
    response = APIClient().get("/fhir/metadata")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/fhir+json")
    statement = valid(response.json())
    served = {r["type"] for r in statement["rest"][0]["resource"]}
    assert served == {
        "Practitioner",
        "PractitionerRole",
        "HealthcareService",
        "Schedule",
        "Slot",
        "Appointment",
        "ServiceRequest",
        "Task",
    }
    assert statement["fhirVersion"] == "4.0.1"


def test_every_resource_in_the_statement_answers_a_search(staff, service):
    statement = APIClient().get("/fhir/metadata").json()
    for resource in statement["rest"][0]["resource"]:
        params = {"schedule": f"Schedule/{service.pk}"} if resource["type"] == "Slot" else {}
        response = staff.get(resource["type"], **params)
        assert response.status_code == 200, resource["type"]
        assert response.body["type"] == "searchset"


def test_a_search_without_a_token_is_401_as_an_operation_outcome(service):
    response = APIClient().get("/fhir/Practitioner")
    assert response.status_code == 401
    outcome = valid(response.json())
    assert outcome["issue"][0]["code"] == "login"


def test_a_login_that_neither_coordinates_nor_is_staff_is_403():
    from tests.fhir.conftest import FhirClient

    response = FhirClient(UserFactory()).get("Practitioner")
    assert response.status_code == 403
    assert response.body["resourceType"] == "OperationOutcome"


def test_a_practitioner_role_carries_licensed_states_and_specialties(staff, service):
    role = staff.get(f"PractitionerRole/{service.provider_id}").body
    states = {e["valueCodeableConcept"]["coding"][0]["code"] for e in role["extension"]}
    assert states == {"NY", "NJ"}
    assert role["specialty"][0]["coding"][0]["code"] == SPECIALTY
    assert role["healthcareService"] == [{"reference": f"HealthcareService/{service.pk}"}]


def test_practitioner_healthcare_service_and_schedule_read_as_r4(staff, service):
    assert staff.get(f"Practitioner/{service.provider_id}").body["name"][0]["text"] == (
        "Dana Whitfield"
    )
    assert staff.get(f"HealthcareService/{service.pk}").body["name"] == "Follow-up visit"
    schedule = staff.get(f"Schedule/{service.pk}").body
    assert {"reference": f"Practitioner/{service.provider_id}"} in schedule["actor"]


def test_an_unknown_id_is_404_as_an_operation_outcome(staff):
    response = staff.get("Practitioner/999999")
    assert response.status_code == 404
    assert response.body["issue"][0]["code"] == "not-found"


def test_slots_are_the_slot_engines_free_times(staff, service):
    bundle = staff.get(
        "Slot", schedule=f"Schedule/{service.pk}", status="free", _count=200, **WEEK
    ).body
    json_api = (
        APIClient()
        .get(
            f"/api/providers/{service.provider.slug}/slots/",
            {"service": service.slug, "start": "2026-03-04", "end": "2026-03-06", "tz": "UTC"},
        )
        .json()
    )
    starts = [e["resource"]["start"] for e in bundle["entry"]]
    assert starts == [s["start"].replace("+00:00", "Z") for s in json_api]
    assert bundle["total"] == len(json_api) > 0
    assert {e["resource"]["status"] for e in bundle["entry"]} == {"free"}


def test_slot_search_by_service_type_finds_the_same_slots(staff, service):
    by_schedule = staff.get("Slot", schedule=f"Schedule/{service.pk}", **WEEK).body
    by_type = staff.get("Slot", **{"service-type": "follow-up"}, **WEEK).body
    assert by_type["total"] == by_schedule["total"]


def test_a_slot_search_over_many_schedules_costs_the_same_queries_as_over_one(staff, service):
    from tests.factories import ProviderFactory

    others = [ServiceFactory(provider=ProviderFactory(), slug="follow-up") for _ in range(5)]
    staff.get("Slot", schedule=f"Schedule/{service.pk}", **WEEK)  # warm the session and caches
    with CaptureQueriesContext(connection) as one:
        staff.get("Slot", schedule=f"Schedule/{service.pk}", **WEEK)
    schedules = ",".join(f"Schedule/{s.pk}" for s in [service, *others])
    with CaptureQueriesContext(connection) as six:
        bundle = staff.get("Slot", schedule=schedules, _count=200, **WEEK).body
    assert {e["resource"]["schedule"]["reference"] for e in bundle["entry"]} == {
        f"Schedule/{s.pk}" for s in [service, *others]
    }
    assert len(six) == len(one)


def test_a_slot_search_pages_with_next_links(staff, service):
    first = staff.get("Slot", schedule=f"Schedule/{service.pk}", _count=5, **WEEK).body
    assert len(first["entry"]) == 5
    next_url = next(link["url"] for link in first["link"] if link["relation"] == "next")
    second = staff.get(next_url.split("/fhir/", 1)[1]).body
    assert len(second["entry"]) == 5
    assert second["entry"][0]["resource"]["start"] > first["entry"][-1]["resource"]["start"]
    seen = [e["resource"]["id"] for e in first["entry"] + second["entry"]]
    assert len(set(seen)) == 10


def test_a_slot_reads_back_by_its_id_while_free(staff, service):
    bundle = staff.get("Slot", schedule=f"Schedule/{service.pk}", _count=1, **WEEK).body
    slot = bundle["entry"][0]["resource"]
    assert staff.get(f"Slot/{slot['id']}").body["start"] == slot["start"]
    start = datetime.fromisoformat(slot["start"].replace("Z", "+00:00"))
    assert start.tzinfo == UTC


def test_a_slot_search_names_a_schedule_or_a_service_type(staff, service):
    response = staff.get("Slot", **WEEK)
    assert response.status_code == 400
    assert response.body["issue"][0]["details"]["coding"][0]["code"] == "invalid"


def test_a_slot_search_longer_than_the_json_apis_limit_is_refused(staff, service):
    response = staff.get(
        "Slot", schedule=f"Schedule/{service.pk}", start=["ge2026-03-04", "lt2026-07-01"]
    )
    assert response.status_code == 400
    assert response.body["issue"][0]["details"]["coding"][0]["code"] == "range_too_long"


def test_a_slot_search_for_busy_slots_finds_none(staff, service):
    bundle = staff.get("Slot", schedule=f"Schedule/{service.pk}", status="busy", **WEEK).body
    assert bundle["total"] == 0
