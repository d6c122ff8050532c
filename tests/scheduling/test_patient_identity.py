"""A phone number proves nothing: anonymous bookings need a texted code (issue 11).

Every attack is compared between a number that belongs to a patient and one that does not:
the answers must be the same apart from ids, and nothing stored may change or leak.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from rest_framework.test import APIClient

from scheduling.models import Appointment, Patient, PatientEvent
from tests.factories import AppointmentFactory, PatientFactory, StaffFactory, proof_of
from tests.scheduling.booking_helpers import BOOK_URL, NOW, WED_10, WED_11, make_service, payload

pytestmark = pytest.mark.django_db

KNOWN = "+12125550177"
STRANGER = "+12125550188"


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def victim():
    return PatientFactory(
        name="Robin Real", phone=KNOWN, email="robin@private.example", sms_consent=False
    )


def unverified(service, start, phone, **overrides):
    body = payload(service, start, verification=None, **overrides)
    body["patient"].update(name="Made Up", email="attacker@example.net", phone=phone)
    return APIClient().post(BOOK_URL, body, format="json")


def shape(response):
    body = response.json()
    return response.status_code, body["code"], body["detail"], body["fields"]


def test_a_booking_without_proof_of_the_phone_is_refused_with_verification_required():
    response = unverified(make_service(), WED_10, STRANGER)
    assert shape(response)[:2] == (400, "verification_required")
    assert not Appointment.objects.exists() and not Patient.objects.exists()


def test_a_known_and_an_unknown_number_get_the_same_answer_without_proof(victim):
    service = make_service()
    AppointmentFactory(service=service, patient=victim, start=WED_11)
    assert shape(unverified(service, WED_10, KNOWN)) == shape(unverified(service, WED_10, STRANGER))


def test_a_past_slot_with_a_provider_not_taking_new_patients_is_no_membership_oracle(victim):
    service = make_service(provider_kwargs={"accepting_new_patients": False})
    AppointmentFactory(service=service, patient=victim, start=NOW - timedelta(days=20))
    past = NOW - timedelta(days=1)
    assert shape(unverified(service, past, KNOWN)) == shape(unverified(service, past, STRANGER))


def test_a_group_seat_already_held_is_no_membership_oracle(victim):
    group = make_service(capacity=8)
    AppointmentFactory(service=group, patient=victim, start=WED_10)
    assert shape(unverified(group, WED_10, KNOWN)) == shape(unverified(group, WED_10, STRANGER))


def test_an_unverified_attempt_changes_nothing_on_the_stored_patient(victim):
    before = Patient.objects.values().get(pk=victim.pk)
    unverified(make_service(), WED_10, KNOWN, sms_consent=True)
    assert Patient.objects.values().get(pk=victim.pk) == before
    assert not PatientEvent.objects.exists()


def test_a_verified_booking_answers_with_what_was_sent_never_the_stored_name_or_email(victim):
    body = payload(make_service(), WED_10, patient={"phone": KNOWN, "name": "Robin R"})
    response = APIClient().post(BOOK_URL, body, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["patient"]["name"] == "Robin R"
    assert response.json()["patient"]["email"] == "alex@example.net"
    assert "Robin Real" not in response.text and "robin@private.example" not in response.text


def test_a_verified_booking_keeps_the_stored_name_and_email(victim):
    body = payload(make_service(), WED_10, patient={"phone": KNOWN, "name": "Someone Else"})
    assert APIClient().post(BOOK_URL, body, format="json").status_code == 201
    victim.refresh_from_db()
    assert (victim.name, victim.email) == ("Robin Real", "robin@private.example")


def test_a_verified_change_of_zone_state_and_consent_is_an_event_with_old_and_new_values(victim):
    service = make_service()
    body = payload(
        service,
        WED_10,
        patient={"phone": KNOWN, "timezone": "America/Chicago", "state": "NJ"},
        sms_consent=True,
    )
    assert APIClient().post(BOOK_URL, body, format="json").status_code == 201
    event = PatientEvent.objects.get(patient=victim)
    assert event.kind == "details_changed" and event.actor == "patient"
    assert event.data["timezone"] == ["America/New_York", "America/Chicago"]
    assert event.data["state"] == ["NY", "NJ"]
    assert event.data["sms_consent"] == [False, True]


def test_a_proof_for_another_number_does_not_count():
    body = payload(
        make_service(), WED_10, patient={"phone": KNOWN}, verification=proof_of(STRANGER)
    )
    response = APIClient().post(BOOK_URL, body, format="json")
    assert shape(response)[:2] == (400, "verification_required")


def test_staff_book_on_a_patients_behalf_without_a_code_and_are_recorded_as_staff():
    staff = StaffFactory()
    client = APIClient()
    client.force_authenticate(staff)
    body = payload(make_service(), WED_10, verification=None)
    response = client.post(BOOK_URL, body, format="json")
    assert response.status_code == 201, response.content
    event = Appointment.objects.get().events.get()
    assert (event.actor, event.actor_user_id) == ("staff", staff.pk)


def test_a_proof_older_than_its_life_no_longer_books(settings):
    body = payload(make_service(), WED_10)
    with time_machine.travel(NOW + timedelta(minutes=settings.VERIFICATION_TOKEN_MINUTES + 1)):
        response = APIClient().post(BOOK_URL, body, format="json")
    assert shape(response)[:2] == (400, "verification_required")


def test_a_number_in_a_country_texts_may_not_go_to_is_phone_not_supported():
    body = payload(make_service(), WED_10, patient={"phone": "+44 20 7946 0958"})
    response = APIClient().post(BOOK_URL, body, format="json")
    assert shape(response)[:2] == (400, "phone_not_supported")
    assert not Appointment.objects.exists()


def test_one_address_cannot_empty_a_providers_slots_with_many_proven_phones(settings):
    settings.BOOKING_PER_PROVIDER_RATE_LIMIT = "2/day"
    service = make_service()
    starts = [WED_10, WED_11, WED_10 + timedelta(hours=4)]
    answers = [
        APIClient()
        .post(
            BOOK_URL,
            payload(service, start, patient={"phone": f"+1212555{n:04d}"}),
            format="json",
        )
        .status_code
        for n, start in enumerate(starts)
    ]
    assert answers == [201, 201, 429]
    assert Appointment.objects.count() == 2
