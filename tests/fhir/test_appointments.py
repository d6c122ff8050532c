"""/fhir/Appointment: create books through the booking service (its rules and errors,
as OperationOutcomes with the JSON API's statuses), read, search, cancel, scope."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pytest
from rest_framework.test import APIClient

from common.events import Actor
from fhir.mapping import PART2_LABEL, TZ_EXTENSION
from scheduling.models import Appointment, AppointmentEvent, AppointmentStatus
from tests.fhir.conftest import coordinator_of
from tests.notifications.conftest import WED_10
from tests.scheduling.booking_helpers import book as book_by_json

pytestmark = pytest.mark.django_db

PATIENT = {
    "resourceType": "Patient",
    "id": "p",
    "name": [{"text": "Alex Rivera"}],
    "telecom": [{"system": "phone", "value": "+12125550142"}],
    "address": [{"state": "NY"}],
    "extension": [{"url": TZ_EXTENSION, "valueCode": "America/New_York"}],
}


def slot_ref(service: Any, start: datetime) -> str:
    return f"Slot/{service.pk}-{int(start.timestamp())}"


def appointment_body(service: Any, start: datetime = WED_10, **patient: Any) -> dict[str, Any]:
    return {
        "resourceType": "Appointment",
        "status": "booked",
        "slot": [{"reference": slot_ref(service, start)}],
        "contained": [{**PATIENT, **patient}],
        "participant": [{"actor": {"reference": "#p"}, "status": "accepted"}],
    }


def test_staff_book_through_fhir_and_get_the_r4_appointment(staff, service):
    response = staff.post("Appointment", appointment_body(service))
    assert response.status_code == 201, response.body
    appointment = Appointment.objects.get()
    assert response["Location"].endswith(f"/fhir/Appointment/{appointment.pk}")
    body = response.body
    assert body["status"] == "booked"
    assert body["start"] == "2026-03-04T15:00:00Z"
    assert PART2_LABEL in body["meta"]["security"]
    assert AppointmentEvent.objects.get().actor == Actor.STAFF


def test_an_appointment_names_the_patient_by_reference_only(staff, service):
    body = staff.post("Appointment", appointment_body(service)).body
    text = str(body)
    assert "Alex" not in text and "2125550142" not in text
    assert {"reference": f"Patient/{Appointment.objects.get().patient_id}"} in [
        p["actor"] for p in body["participant"]
    ]


def test_a_booking_with_a_healthcare_service_and_start_books_too(staff, service):
    body = appointment_body(service)
    del body["slot"]
    body["start"] = WED_10.isoformat()
    body["participant"].append(
        {"actor": {"reference": f"HealthcareService/{service.pk}"}, "status": "accepted"}
    )
    assert staff.post("Appointment", body).status_code == 201


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"start": WED_10 + timedelta(minutes=7)}, "slot_unavailable"),
        ({"state": "CA"}, "not_licensed_in_state"),
        ({"phone": "12"}, "invalid_phone"),
    ],
)
def test_a_refused_booking_is_the_json_apis_error_as_an_operation_outcome(
    staff, service, change, code
):
    start = change.get("start", WED_10)
    patient: dict[str, Any] = {}
    if "state" in change:
        patient["address"] = [{"state": change["state"]}]
    if "phone" in change:
        patient["telecom"] = [{"system": "phone", "value": change["phone"]}]
    fhir = staff.post("Appointment", appointment_body(service, start, **patient))
    json_patient = {"state": change["state"]} if "state" in change else {}
    if "phone" in change:
        json_patient["phone"] = change["phone"]
    client = APIClient()
    client.force_authenticate(staff.user)
    json_api = book_by_json(client, service, start, patient=json_patient)
    assert json_api.json()["code"] == code
    assert fhir.status_code == json_api.status_code
    issue = fhir.body["issue"][0]
    assert issue["details"]["coding"][0]["code"] == code
    assert not Appointment.objects.exists()


def test_a_taken_slot_is_409_conflict(staff, service):
    staff.post("Appointment", appointment_body(service))
    again = staff.post(
        "Appointment",
        appointment_body(service, telecom=[{"system": "phone", "value": "+12125550143"}]),
    )
    assert again.status_code == 409
    assert again.body["issue"][0]["code"] == "conflict"


def test_a_coordinator_books_as_the_json_api_would_let_them_without_a_referral(service):
    """Not staff and not a provider: the JSON API asks for the phone's code; so does FHIR."""
    response = coordinator_of("county-ed").post("Appointment", appointment_body(service))
    assert response.status_code == 400
    assert response.body["issue"][0]["details"]["coding"][0]["code"] == "verification_required"


def test_staff_cancel_by_setting_the_status(staff, service):
    created = staff.post("Appointment", appointment_body(service)).body
    response = staff.patch(f"Appointment/{created['id']}", {"status": "cancelled"})
    assert response.status_code == 200
    assert response.body["status"] == "cancelled"
    assert Appointment.objects.get().status == AppointmentStatus.CANCELLED


def test_a_put_of_the_whole_resource_with_status_cancelled_cancels(staff, service):
    created = staff.post("Appointment", appointment_body(service)).body
    response = staff.put(f"Appointment/{created['id']}", {**created, "status": "cancelled"})
    assert response.body["status"] == "cancelled"


def test_a_json_patch_cancels_too(staff, service):
    created = staff.post("Appointment", appointment_body(service)).body
    response = staff.client.patch(
        f"/fhir/Appointment/{created['id']}",
        json.dumps([{"op": "replace", "path": "/status", "value": "cancelled"}]),
        content_type="application/json-patch+json",
    )
    assert response.json()["status"] == "cancelled"


def test_a_cancelled_appointment_cannot_be_booked_again_by_status(staff, service):
    created = staff.post("Appointment", appointment_body(service)).body
    staff.patch(f"Appointment/{created['id']}", {"status": "cancelled"})
    response = staff.patch(f"Appointment/{created['id']}", {"status": "booked"})
    assert response.status_code == 409
    assert response.body["issue"][0]["details"]["coding"][0]["code"] == "invalid_transition"


def test_moving_the_start_reschedules(staff, service):
    created = staff.post("Appointment", appointment_body(service)).body
    later = (WED_10 + timedelta(hours=2)).isoformat()
    response = staff.patch(f"Appointment/{created['id']}", {"start": later})
    assert response.status_code == 200
    assert response.body["start"] == "2026-03-04T17:00:00Z"


def test_appointments_search_by_practitioner_date_and_status(staff, service):
    for hour in (9, 11, 13):
        phone = f"+1212555020{hour % 10}"
        staff.post(
            "Appointment",
            appointment_body(
                service, WED_10.replace(hour=hour), telecom=[{"system": "phone", "value": phone}]
            ),
        )
    first = Appointment.objects.order_by("start").first()
    staff.patch(f"Appointment/{first.pk}", {"status": "cancelled"})
    bundle = staff.get(
        "Appointment",
        practitioner=f"Practitioner/{service.provider_id}",
        date=["ge2026-03-04", "lt2026-03-05"],
        status="booked",
    ).body
    assert bundle["total"] == 2
    assert [e["resource"]["start"] for e in bundle["entry"]] == [
        "2026-03-04T16:00:00Z",
        "2026-03-04T18:00:00Z",
    ]
    by_patient = staff.get("Appointment", patient=f"Patient/{first.patient_id}").body
    assert [e["resource"]["id"] for e in by_patient["entry"]] == [str(first.pk)]


def test_an_appointment_search_pages(staff, service):
    for hour in (9, 11, 13):
        phone = f"+1212555030{hour % 10}"
        staff.post(
            "Appointment",
            appointment_body(
                service, WED_10.replace(hour=hour), telecom=[{"system": "phone", "value": phone}]
            ),
        )
    first = staff.get("Appointment", _count=2).body
    assert first["total"] == 3 and len(first["entry"]) == 2
    next_url = next(link["url"] for link in first["link"] if link["relation"] == "next")
    last = staff.get(next_url.split("/fhir/", 1)[1]).body
    assert len(last["entry"]) == 1
    assert not [link for link in last["link"] if link["relation"] == "next"]


def test_a_coordinator_cannot_see_an_appointment_not_booked_from_their_referrals(staff, service):
    created = staff.post("Appointment", appointment_body(service)).body
    outsider = coordinator_of("another-county")
    assert outsider.get(f"Appointment/{created['id']}").status_code == 404
    assert outsider.get("Appointment").body["total"] == 0
    assert (
        outsider.patch(f"Appointment/{created['id']}", {"status": "cancelled"}).status_code == 404
    )


def test_an_id_that_cannot_be_an_appointment_is_404(staff):
    response = staff.get("Appointment/not-a-uuid")
    assert response.status_code == 404
    assert response.body["issue"][0]["code"] == "not-found"
