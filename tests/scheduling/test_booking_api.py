"""POST /api/appointments/: every refusal first, then what a good booking answers."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from rest_framework.test import APIClient

from scheduling.models import Appointment, AppointmentEvent, AppointmentStatus, Patient
from tests.factories import AppointmentFactory, PatientFactory
from tests.scheduling.booking_helpers import (
    BOOK_URL,
    NOW,
    WED_10,
    WED_11,
    book,
    make_service,
    payload,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def client() -> APIClient:
    return APIClient()


@pytest.fixture
def service():
    return make_service()


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["code"] == code
    assert set(body) == {"code", "detail", "fields"}
    return body


# --- refusals ---------------------------------------------------------------------------


def test_a_taken_slot_is_409_slot_unavailable(client, service):
    AppointmentFactory(service=service, start=WED_10)
    response = book(client, service, WED_10)
    assert_error(response, 409, "slot_unavailable")
    assert Appointment.objects.count() == 1


def test_a_slot_overlapping_a_booking_of_another_service_is_409(client, service):
    other = make_service(provider_kwargs={"slug": "other"})
    other.provider = service.provider
    other.save()
    AppointmentFactory(service=other, start=WED_10)
    assert_error(book(client, service, WED_10 + timedelta(minutes=30)), 409, "slot_unavailable")


def test_a_requested_appointment_holds_its_slot(client, service):
    AppointmentFactory(service=service, start=WED_10, status=AppointmentStatus.REQUESTED)
    assert_error(book(client, service, WED_10), 409, "slot_unavailable")


def test_a_start_off_the_slot_grid_is_409(client, service):
    assert_error(book(client, service, WED_10 + timedelta(minutes=7)), 409, "slot_unavailable")


def test_a_start_in_the_past_is_409(client, service):
    assert_error(book(client, service, NOW - timedelta(days=2)), 409, "slot_unavailable")


def test_a_start_inside_the_minimum_notice_is_409(client, service):
    assert_error(book(client, service, NOW + timedelta(hours=2)), 409, "slot_unavailable")


def test_a_start_outside_working_hours_is_409(client, service):
    assert_error(book(client, service, WED_10.replace(hour=20)), 409, "slot_unavailable")


def test_a_patient_in_an_unlicensed_state_is_400_not_licensed_in_state(client, service):
    response = book(client, service, WED_10, patient={"state": "CA"})
    assert_error(response, 400, "not_licensed_in_state")
    assert not Appointment.objects.exists()


def test_an_invalid_phone_is_400_invalid_phone(client, service):
    body = assert_error(
        book(client, service, WED_10, patient={"phone": "555-01"}), 400, "invalid_phone"
    )
    assert "phone" in body["fields"]["patient"]


def test_an_unknown_time_zone_is_400_invalid_timezone(client, service):
    response = book(client, service, WED_10, patient={"timezone": "Mars/Olympus"})
    assert_error(response, 400, "invalid_timezone")


def test_an_unknown_state_is_400_invalid_state(client, service):
    assert_error(book(client, service, WED_10, patient={"state": "ZZ"}), 400, "invalid_state")


def test_an_unknown_service_is_400_unknown_service(client, service):
    assert_error(book(client, service, WED_10, service="nope"), 400, "unknown_service")


def test_an_inactive_service_is_400_unknown_service(client, service):
    service.is_active = False
    service.save()
    assert_error(book(client, service, WED_10), 400, "unknown_service")


def test_an_unknown_provider_is_400_unknown_provider(client, service):
    assert_error(book(client, service, WED_10, provider="nobody"), 400, "unknown_provider")


@pytest.mark.parametrize("consent", ["yes", 1, "true", None])
def test_sms_consent_must_be_an_explicit_boolean(client, service, consent):
    body = assert_error(book(client, service, WED_10, sms_consent=consent), 400, "invalid")
    assert "sms_consent" in body["fields"]


def test_missing_sms_consent_is_400(client, service):
    data = payload(service, WED_10)
    del data["sms_consent"]
    body = assert_error(client.post(BOOK_URL, data, format="json"), 400, "invalid")
    assert "sms_consent" in body["fields"]


def test_a_naive_start_is_400(client, service):
    response = book(client, service, WED_10, start="2026-03-04T10:00:00")
    body = assert_error(response, 400, "invalid")
    assert "start" in body["fields"]


@pytest.mark.parametrize("start", ["tomorrow", 12345, None, "2026-02-30T10:00:00Z", ["x"]])
def test_a_start_that_is_not_a_datetime_is_400(client, service, start):
    assert_error(book(client, service, WED_10, start=start), 400, "invalid")


def test_malformed_json_is_400_malformed_request(client):
    response = client.post(BOOK_URL, "{not json", content_type="application/json")
    assert_error(response, 400, "malformed_request")


@pytest.mark.parametrize(
    "body", [[], "string", 42, {"patient": "Alex"}, {"patient": [1, 2]}, {"provider": {"a": 1}}]
)
def test_wrong_shapes_are_400_not_500(client, service, body):
    response = client.post(BOOK_URL, body, format="json")
    assert_error(response, 400, "invalid")


def test_a_new_patient_cannot_book_a_provider_not_accepting_new_patients(client):
    service = make_service(provider_kwargs={"accepting_new_patients": False})
    assert_error(book(client, service, WED_10), 409, "not_accepting_new_patients")


def test_a_known_patient_can_still_book_a_provider_not_accepting_new_patients(client):
    service = make_service(provider_kwargs={"accepting_new_patients": False})
    patient = PatientFactory(phone="+12125550142")
    AppointmentFactory(service=service, patient=patient, start=WED_11 + timedelta(days=1))
    assert book(client, service, WED_10).status_code == 201


def test_booking_is_rate_limited_per_address_with_retry_after(client, service, settings):
    settings.BOOKING_RATE_LIMIT = "2/min"
    for _ in range(2):
        book(client, service, WED_10)
    response = client.post(BOOK_URL, payload(service, WED_11), format="json")
    assert_error(response, 429, "rate_limited")
    assert int(response["Retry-After"]) > 0


def test_the_rate_limit_ignores_a_forged_forwarded_for_header(client, service, settings):
    settings.BOOKING_RATE_LIMIT = "1/min"
    book(client, service, WED_10)
    response = book(client, service, WED_11, headers={"HTTP_X_FORWARDED_FOR": "203.0.113.9"})
    assert response.status_code == 429


def test_behind_one_proxy_each_forwarded_client_has_its_own_limit(client, service, settings):
    settings.BOOKING_RATE_LIMIT = "1/min"
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    first = {"HTTP_X_FORWARDED_FOR": "203.0.113.9"}
    second = {"HTTP_X_FORWARDED_FOR": "198.51.100.7, 203.0.113.10"}  # forged part first
    assert book(client, service, WED_10, headers=first).status_code == 201
    assert book(client, service, WED_11, headers=second).status_code == 201
    assert book(client, service, WED_11, headers=first).status_code == 429


def test_a_refused_booking_leaves_no_patient_behind(client, service):
    book(client, service, WED_10, patient={"state": "CA"})
    book(client, service, WED_10 + timedelta(minutes=7))
    assert not Patient.objects.exists()


# --- a good booking ---------------------------------------------------------------------


def test_a_booking_answers_201_with_times_in_the_patients_zone(client, service, settings):
    response = book(client, service, WED_10, patient={"timezone": "America/Los_Angeles"})
    assert response.status_code == 201, response.content
    body = response.json()
    appointment = Appointment.objects.get()
    assert body["id"] == str(appointment.id)
    assert body["status"] == "confirmed"
    assert body["start"] == "2026-03-04T07:00:00-08:00"
    assert body["end"] == "2026-03-04T07:50:00-08:00"
    assert body["timezone_abbreviation"] == "PST"
    assert body["video_url"].startswith(settings.VIDEO_ROOM_BASE_URL)
    assert len(body["video_url"]) > len(settings.VIDEO_ROOM_BASE_URL) + 16
    assert body["manage_url"].startswith(f"{settings.PUBLIC_BASE_URL}/m/")
    assert body["ics_url"].startswith(
        f"{settings.PUBLIC_BASE_URL}/api/appointments/{appointment.id}/invite.ics?token="
    )


def test_a_booking_stores_utc_times_and_the_blocked_interval(client, service):
    book(client, service, WED_10)
    appointment = Appointment.objects.get()
    assert appointment.start == WED_10
    assert appointment.blocked_end == WED_10 + timedelta(minutes=60)
    assert appointment.sequence == 0


def test_a_service_needing_approval_books_as_requested(client):
    service = make_service(requires_approval=True)
    assert book(client, service, WED_10).json()["status"] == "requested"


def test_each_booking_gets_its_own_video_room(client, service):
    first = book(client, service, WED_10).json()["video_url"]
    second = book(client, service, WED_11, patient={"phone": "+12125550199"}).json()["video_url"]
    assert first != second


def test_the_same_phone_finds_the_same_patient(client, service):
    book(client, service, WED_10, patient={"phone": "(212) 555-0142"})
    book(client, service, WED_11, patient={"phone": "+1 212-555-0142", "name": "Someone Else"})
    patient = Patient.objects.get()
    assert patient.phone == "+12125550142"
    assert patient.name == "Alex Rivera"
    assert patient.appointments.count() == 2


def test_sms_consent_is_recorded_with_its_time_and_source(client, service):
    book(client, service, WED_10)
    patient = Patient.objects.get()
    assert patient.sms_consent is True
    assert patient.sms_consent_at == NOW
    assert patient.sms_consent_source == "booking"


def test_withdrawn_consent_is_recorded(client, service):
    book(client, service, WED_10)
    book(client, service, WED_11, sms_consent=False)
    assert Patient.objects.get().sms_consent is False


def test_a_booking_writes_one_booked_event(client, service):
    book(client, service, WED_10)
    event = AppointmentEvent.objects.get()
    assert (event.kind, event.actor, event.from_status, event.to_status) == (
        "booked",
        "patient",
        "",
        "confirmed",
    )


def test_a_cancelled_appointment_does_not_hold_its_slot(client, service):
    AppointmentFactory(service=service, start=WED_10, status=AppointmentStatus.CANCELLED)
    assert book(client, service, WED_10).status_code == 201


def test_group_seats_share_a_session_up_to_capacity(client):
    service = make_service(capacity=2, duration_minutes=60, buffer_after_minutes=0)
    phones = ["+12125550101", "+12125550102", "+12125550103"]
    codes = [book(client, service, WED_10, patient={"phone": p}).status_code for p in phones]
    assert codes == [201, 201, 409]
    rooms = {a.video_room for a in Appointment.objects.all()}
    assert len(rooms) == 1


def test_a_patient_cannot_take_two_seats_of_one_session(client):
    service = make_service(capacity=3, duration_minutes=60, buffer_after_minutes=0)
    assert book(client, service, WED_10).status_code == 201
    assert_error(book(client, service, WED_10), 409, "already_booked")
