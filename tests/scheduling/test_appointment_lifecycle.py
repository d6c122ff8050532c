"""Cancel, reschedule, confirm and attendance through the API, illegal moves first."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from rest_framework.test import APIClient

from scheduling.models import Appointment, AppointmentEvent, AppointmentStatus
from tests.factories import AppointmentFactory, StaffFactory, UserFactory
from tests.scheduling.booking_helpers import NOW, WED_10, WED_11, WED_14, book, make_service

pytestmark = pytest.mark.django_db
S = AppointmentStatus


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def client() -> APIClient:
    return APIClient()


@pytest.fixture
def service():
    return make_service(late_cancel_hours=24)


@pytest.fixture
def booked(client, service, clock):
    """(appointment id, manage token) of a confirmed Wednesday 10:00 visit."""
    response = book(client, service, WED_10)
    assert response.status_code == 201
    body = response.json()
    return body["id"], body["manage_url"].rsplit("/", 1)[-1]


def post(client, appointment_id, action, data=None, token=None):
    url = f"/api/appointments/{appointment_id}/{action}/"
    if token:
        url += f"?token={token}"
    return client.post(url, data or {}, format="json")


def provider_client(service) -> APIClient:
    user = UserFactory()
    service.provider.user = user
    service.provider.save()
    client = APIClient()
    client.force_authenticate(user)
    return client


def staff_client() -> APIClient:
    client = APIClient()
    client.force_authenticate(StaffFactory())
    return client


def test_the_transition_table_lets_nothing_leave_cancelled():
    assert Appointment.TRANSITIONS[S.CANCELLED] == frozenset()
    assert S.ATTENDED not in Appointment.TRANSITIONS[S.REQUESTED]


# --- cancel -----------------------------------------------------------------------------


def test_cancelling_twice_is_409_invalid_transition(client, booked):
    appointment_id, token = booked
    assert post(client, appointment_id, "cancel", token=token).status_code == 200
    response = post(client, appointment_id, "cancel", token=token)
    assert response.status_code == 409
    assert response.json()["code"] == "invalid_transition"


def test_cancelling_a_visit_that_has_started_is_409(client, booked, clock):
    appointment_id, token = booked
    clock.move_to(WED_10 + timedelta(minutes=5))
    assert post(client, appointment_id, "cancel", token=token).status_code == 409


def test_cancel_records_the_reason_and_frees_the_slot_at_once(client, service, booked):
    appointment_id, token = booked
    response = post(client, appointment_id, "cancel", {"reason": "Work shift"}, token=token)
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    appointment = Appointment.objects.get(pk=appointment_id)
    assert appointment.cancel_reason == "Work shift"
    assert appointment.cancelled_late is False
    assert appointment.sequence == 1
    event = appointment.events.get(kind="cancelled")
    assert (event.actor, event.from_status, event.to_status, event.reason) == (
        "patient",
        "confirmed",
        "cancelled",
        "Work shift",
    )
    assert book(client, service, WED_10, patient={"phone": "+12125550199"}).status_code == 201


def test_a_cancellation_inside_the_late_window_is_flagged(client, booked, clock):
    appointment_id, token = booked
    clock.move_to(WED_10 - timedelta(hours=3))
    post(client, appointment_id, "cancel", token=token)
    assert Appointment.objects.get(pk=appointment_id).cancelled_late is True


# --- reschedule -------------------------------------------------------------------------


def test_rescheduling_onto_a_taken_slot_is_409_and_leaves_the_original_untouched(
    client, service, booked
):
    appointment_id, token = booked
    AppointmentFactory(service=service, start=WED_14)
    before = Appointment.objects.get(pk=appointment_id)
    response = post(client, appointment_id, "reschedule", {"start": WED_14.isoformat()}, token)
    assert response.status_code == 409
    assert response.json()["code"] == "slot_unavailable"
    after = Appointment.objects.get(pk=appointment_id)
    assert (after.start, after.blocked_end, after.sequence, after.session_key) == (
        before.start,
        before.blocked_end,
        before.sequence,
        before.session_key,
    )
    assert not after.events.filter(kind="rescheduled").exists()


def test_rescheduling_off_the_grid_or_into_the_past_is_409(client, booked):
    appointment_id, token = booked
    for start in (WED_11 + timedelta(minutes=10), NOW - timedelta(days=1)):
        response = post(client, appointment_id, "reschedule", {"start": start.isoformat()}, token)
        assert response.status_code == 409


def test_rescheduling_with_a_naive_start_is_400(client, booked):
    appointment_id, token = booked
    response = post(client, appointment_id, "reschedule", {"start": "2026-03-04T11:00"}, token)
    assert response.status_code == 400
    assert "start" in response.json()["fields"]


def test_rescheduling_a_cancelled_visit_is_409_invalid_transition(client, booked):
    appointment_id, token = booked
    post(client, appointment_id, "cancel", token=token)
    response = post(client, appointment_id, "reschedule", {"start": WED_14.isoformat()}, token)
    assert response.json()["code"] == "invalid_transition"


def test_reschedule_keeps_the_id_moves_the_blocked_time_and_bumps_the_sequence(client, booked):
    appointment_id, token = booked
    old_key = Appointment.objects.get(pk=appointment_id).session_key
    response = post(client, appointment_id, "reschedule", {"start": WED_14.isoformat()}, token)
    assert response.status_code == 200, response.content
    assert response.json()["id"] == appointment_id
    assert response.json()["start"] == "2026-03-04T14:00:00-05:00"
    appointment = Appointment.objects.get(pk=appointment_id)
    assert appointment.start == WED_14
    assert appointment.blocked_start == WED_14
    assert appointment.blocked_end == WED_14 + timedelta(minutes=60)
    assert appointment.sequence == 1
    assert appointment.session_key != old_key
    assert appointment.events.filter(kind="rescheduled").count() == 1
    assert Appointment.objects.count() == 1


def test_a_visit_may_move_by_half_an_hour_over_its_own_time(client, booked):
    appointment_id, token = booked
    start = WED_10 + timedelta(minutes=30)
    response = post(client, appointment_id, "reschedule", {"start": start.isoformat()}, token)
    assert response.status_code == 200, response.content


def test_the_freed_time_of_a_rescheduled_visit_can_be_booked(client, service, booked):
    appointment_id, token = booked
    post(client, appointment_id, "reschedule", {"start": WED_14.isoformat()}, token)
    assert book(client, service, WED_10, patient={"phone": "+12125550199"}).status_code == 201


# --- confirm ----------------------------------------------------------------------------


def test_a_provider_confirms_a_requested_visit(clock):
    service = make_service(requires_approval=True)
    appointment = AppointmentFactory(service=service, start=WED_10, status=S.REQUESTED)
    response = post(provider_client(service), appointment.id, "confirm")
    assert response.status_code == 200
    appointment.refresh_from_db()
    assert (appointment.status, appointment.sequence) == (S.CONFIRMED, 1)
    event = appointment.events.get()
    assert (event.kind, event.actor, event.from_status) == ("confirmed", "provider", "requested")


def test_staff_confirming_an_already_confirmed_visit_is_409(service, clock):
    appointment = AppointmentFactory(service=service, start=WED_10)
    response = post(staff_client(), appointment.id, "confirm")
    assert response.status_code == 409
    assert response.json()["code"] == "invalid_transition"


def test_confirming_a_past_visit_is_409(service, clock):
    appointment = AppointmentFactory(service=service, start=WED_10, status=S.REQUESTED)
    clock.move_to(WED_10 + timedelta(hours=2))
    response = post(staff_client(), appointment.id, "confirm")
    assert response.status_code == 409
    assert response.json()["code"] == "invalid_transition"


def test_confirming_a_cancelled_visit_is_409(client, booked):
    appointment_id, token = booked
    post(client, appointment_id, "cancel", token=token)
    response = post(client, appointment_id, "confirm", token=token)
    assert response.json()["code"] == "invalid_transition"
    assert response.status_code == 409


def test_the_patients_confirmation_is_logged_without_changing_the_status(client, booked):
    appointment_id, token = booked
    response = post(client, appointment_id, "confirm", token=token)
    assert response.status_code == 200
    appointment = Appointment.objects.get(pk=appointment_id)
    assert (appointment.status, appointment.sequence) == (S.CONFIRMED, 0)
    assert appointment.events.filter(kind="patient_confirmed", actor="patient").exists()


def test_a_patient_cannot_approve_their_own_request(client, clock):
    service = make_service(requires_approval=True)
    body = book(client, service, WED_10).json()
    token = body["manage_url"].rsplit("/", 1)[-1]
    post(client, body["id"], "confirm", token=token)
    assert Appointment.objects.get(pk=body["id"]).status == S.REQUESTED


# --- attendance -------------------------------------------------------------------------


def test_the_patient_cannot_record_attendance(client, booked, clock):
    appointment_id, token = booked
    clock.move_to(WED_10 + timedelta(hours=1))
    response = post(client, appointment_id, "attendance", {"status": "attended"}, token)
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


def test_attendance_before_the_start_is_409(service, booked):
    appointment_id, _ = booked
    response = post(provider_client(service), appointment_id, "attendance", {"status": "attended"})
    assert response.status_code == 409
    assert response.json()["code"] == "invalid_transition"


def test_attendance_of_a_cancelled_visit_is_409(client, service, booked, clock):
    appointment_id, token = booked
    post(client, appointment_id, "cancel", token=token)
    clock.move_to(WED_10 + timedelta(hours=1))
    response = post(provider_client(service), appointment_id, "attendance", {"status": "no_show"})
    assert response.status_code == 409


def test_an_unknown_attendance_status_is_400(service, booked, clock):
    appointment_id, _ = booked
    clock.move_to(WED_10 + timedelta(hours=1))
    response = post(provider_client(service), appointment_id, "attendance", {"status": "late"})
    assert response.status_code == 400
    assert "status" in response.json()["fields"]


@pytest.mark.parametrize("outcome", ["attended", "no_show"])
def test_the_provider_records_attendance_after_the_start(service, booked, clock, outcome):
    appointment_id, _ = booked
    clock.move_to(WED_10 + timedelta(minutes=55))
    response = post(provider_client(service), appointment_id, "attendance", {"status": outcome})
    assert response.status_code == 200
    appointment = Appointment.objects.get(pk=appointment_id)
    assert (appointment.status, appointment.sequence) == (outcome, 1)
    event = appointment.events.get(kind=outcome)
    assert (event.actor, event.from_status, event.to_status) == ("provider", "confirmed", outcome)


def test_an_attendance_mark_can_be_corrected(service, booked, clock):
    appointment_id, _ = booked
    clock.move_to(WED_10 + timedelta(minutes=55))
    provider = provider_client(service)
    post(provider, appointment_id, "attendance", {"status": "no_show"})
    assert post(provider, appointment_id, "attendance", {"status": "attended"}).status_code == 200
    assert Appointment.objects.get(pk=appointment_id).status == S.ATTENDED


def test_every_change_appends_an_event_and_events_cannot_be_rewritten(client, booked):
    appointment_id, token = booked
    post(client, appointment_id, "reschedule", {"start": WED_14.isoformat()}, token)
    post(client, appointment_id, "cancel", token=token)
    kinds = list(
        AppointmentEvent.objects.filter(appointment_id=appointment_id).values_list(
            "kind", flat=True
        )
    )
    assert kinds == ["booked", "rescheduled", "cancelled"]
    event = AppointmentEvent.objects.first()
    with pytest.raises(ValueError):
        event.save()
