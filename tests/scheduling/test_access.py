"""Who can open an appointment: its token, its provider, staff; everyone else gets 404."""

from __future__ import annotations

import pytest
import time_machine
from rest_framework.test import APIClient

from common.api_tokens import issue_api_token
from scheduling.models import Appointment
from tests.factories import AppointmentFactory, StaffFactory, UserFactory
from tests.scheduling.booking_helpers import NOW, WED_10, WED_14, book, make_service, token_of

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def client() -> APIClient:
    return APIClient()


@pytest.fixture
def two_bookings(client):
    """Two patients' bookings with two different providers: (id, token) each."""
    first = book(client, make_service(), WED_10)
    second = book(client, make_service(), WED_10, patient={"phone": "+12125550177"})
    assert first.status_code == second.status_code == 201
    return (first.json()["id"], token_of(first)), (second.json()["id"], token_of(second))


def assert_not_found(response) -> None:
    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "detail": "Not found.", "fields": {}}


@pytest.mark.parametrize("action", ["", "cancel/", "confirm/", "reschedule/", "attendance/"])
def test_one_patients_token_opens_nothing_of_another_patient(client, two_bookings, action):
    (first_id, first_token), (second_id, _) = two_bookings
    url = f"/api/appointments/{second_id}/{action}?token={first_token}"
    response = client.get(url) if not action else client.post(url, {}, format="json")
    assert_not_found(response)
    assert Appointment.objects.get(pk=second_id).status == "confirmed"


def test_a_token_in_the_body_is_honoured_only_for_its_own_appointment(client, two_bookings):
    (first_id, first_token), (second_id, _) = two_bookings
    assert_not_found(
        client.post(f"/api/appointments/{second_id}/cancel/", {"token": first_token}, format="json")
    )
    response = client.post(
        f"/api/appointments/{first_id}/cancel/", {"token": first_token}, format="json"
    )
    assert response.status_code == 200


@pytest.mark.parametrize("token", ["", "wrong", "x" * 500])
def test_a_wrong_or_missing_token_is_404_like_a_missing_appointment(client, two_bookings, token):
    (first_id, _), _ = two_bookings
    assert_not_found(client.get(f"/api/appointments/{first_id}/?token={token}"))


@pytest.mark.parametrize(
    "appointment_id", ["not-a-uuid", "1", "00000000-0000-0000-0000-000000000000"]
)
def test_a_malformed_or_unknown_id_is_404(client, appointment_id):
    assert_not_found(client.get(f"/api/appointments/{appointment_id}/?token=abc"))


def test_the_token_shows_the_appointment_with_the_patients_links(client, two_bookings):
    (first_id, first_token), _ = two_bookings
    response = client.get(f"/api/appointments/{first_id}/?token={first_token}")
    assert response.status_code == 200
    assert response.json()["id"] == first_id
    assert token_of(response) == first_token


def test_manage_tokens_are_stored_only_as_hashes(two_bookings):
    (first_id, first_token), _ = two_bookings
    row = Appointment.objects.filter(pk=first_id).values().get()
    assert all(first_token not in str(value) for value in row.values())


def test_a_provider_cannot_see_or_change_another_providers_appointment():
    mine = AppointmentFactory(service=make_service(), start=WED_10)
    theirs = AppointmentFactory(service=make_service(), start=WED_10)
    user = UserFactory()
    mine.provider.user = user
    mine.provider.save()
    client = APIClient()
    client.force_authenticate(user)
    assert client.get(f"/api/appointments/{mine.id}/").status_code == 200
    assert_not_found(client.get(f"/api/appointments/{theirs.id}/"))
    assert_not_found(client.post(f"/api/appointments/{theirs.id}/cancel/", {}, format="json"))
    assert Appointment.objects.get(pk=theirs.id).status == "confirmed"


def test_a_provider_sees_no_patient_links(two_bookings):
    (first_id, _), _ = two_bookings
    appointment = Appointment.objects.get(pk=first_id)
    user = UserFactory()
    appointment.provider.user = user
    appointment.provider.save()
    client = APIClient()
    client.force_authenticate(user)
    body = client.get(f"/api/appointments/{first_id}/").json()
    assert "manage_url" not in body


def test_a_user_who_is_neither_staff_nor_a_provider_gets_404(two_bookings):
    (first_id, _), _ = two_bookings
    client = APIClient()
    client.force_authenticate(UserFactory())
    assert_not_found(client.get(f"/api/appointments/{first_id}/"))


def test_staff_see_and_change_every_appointment_with_a_drf_token(two_bookings):
    _, (second_id, _) = two_bookings
    staff = StaffFactory()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {issue_api_token(user=staff)}")
    assert client.get(f"/api/appointments/{second_id}/").status_code == 200
    response = client.post(
        f"/api/appointments/{second_id}/reschedule/", {"start": WED_14.isoformat()}, format="json"
    )
    assert response.status_code == 200
    event = Appointment.objects.get(pk=second_id).events.get(kind="rescheduled")
    assert (event.actor, event.actor_user_id) == ("staff", staff.pk)


def test_the_token_for_an_appointment_stops_working_when_its_salt_rotates(client, two_bookings):
    (first_id, first_token), _ = two_bookings
    from common.tokens import derive_token, hash_token, new_salt

    appointment = Appointment.objects.get(pk=first_id)
    appointment.manage_token_salt = new_salt()
    appointment.manage_token_hash = hash_token(
        derive_token("manage", appointment.id, appointment.manage_token_salt)
    )
    appointment.save()
    assert_not_found(client.get(f"/api/appointments/{first_id}/?token={first_token}"))


def test_appointment_for_token_finds_exactly_its_appointment(two_bookings):
    from scheduling.booking.links import appointment_for_token

    (first_id, first_token), _ = two_bookings
    assert str(appointment_for_token(first_token).id) == first_id
    assert appointment_for_token("nope") is None
    assert appointment_for_token(None) is None
