"""A referral keeps what its coordinator entered about the person; a phone number that is
already a patient's lends the referral nothing from their record, and the record nothing
from the referral."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client

from notifications.models import Notification
from referrals import tasks
from referrals.links import referral_token
from referrals.models import Coordinator, Organization, Referral
from scheduling.models import Patient
from tests.factories import PatientFactory, UserFactory
from tests.referrals.conftest import NOW, referral_payload

# What another organization's patient told Bridgeway about themselves.
STORED = {
    "name": "Morgan Hale",
    "phone": "+12125550142",
    "email": "morgan.hale@private.example.net",
    "timezone": "America/Chicago",
    "state": "IL",
    "sms_consent": False,
    "sms_consent_at": datetime(2025, 11, 3, 15, 0, tzinfo=UTC),
    "sms_consent_source": "booking",
}
# What a coordinator of organization B knows: the phone number, and their own guesses.
SENT = {
    "name": "Jamie Doe",
    "phone": "+12125550142",
    "timezone": "America/New_York",
    "state": "NY",
    "sms_consent": True,
}


@pytest.fixture
def stored_patient(db) -> Patient:
    organization_a = Organization.objects.create(slug="harbor-clinic", name="Harbor Clinic")
    Coordinator.objects.create(user=UserFactory(username="robin"), organization=organization_a)
    return PatientFactory(**STORED)


def _snapshot(patient: Patient) -> dict[str, object]:
    patient.refresh_from_db()
    return {field: getattr(patient, field) for field in (*STORED, "updated_at")}


def _create(staff_client, **changes):
    changes = {"patient": SENT, "service": ""} | changes
    response = staff_client.post("/api/referrals/", referral_payload(**changes), format="json")
    assert response.status_code == 201, response.json()
    return response


def test_a_coordinator_of_another_organization_gets_back_only_what_they_sent(
    clock, specialty, stored_patient, staff_client
):
    response = _create(staff_client)

    assert response.json()["patient"] == {
        "name": "Jamie Doe",
        "initials": "J.D.",
        "phone": "+12125550142",
        "email": "",
        "timezone": "America/New_York",
        "state": "NY",
        "sms_consent": True,
    }
    assert "Morgan" not in response.content.decode()
    assert "private.example.net" not in response.content.decode()


def test_creating_a_referral_with_a_stored_patients_phone_leaves_the_patient_unchanged(
    clock, specialty, stored_patient, staff_client
):
    before = _snapshot(stored_patient)
    _create(staff_client)
    assert _snapshot(stored_patient) == before


def test_creating_a_referral_with_a_stored_patients_phone_attaches_nothing_to_their_record(
    clock, specialty, stored_patient, staff_client
):
    referral = Referral.objects.get(pk=_create(staff_client).json()["id"])
    assert referral.patient is None
    assert not stored_patient.referrals.exists()
    assert Patient.objects.count() == 1


def test_creating_a_referral_for_a_new_number_creates_no_patient(clock, specialty, staff_client):
    _create(staff_client)
    assert not Patient.objects.exists()


def test_the_board_shows_the_referrals_own_name(
    clock, specialty, stored_patient, staff_client, coordinator_user
):
    _create(staff_client)
    client = Client()
    client.force_login(coordinator_user)
    html = client.get("/referrals/board/").content.decode()
    assert "J.D." in html
    assert "M.H." not in html


def test_the_providers_inbox_shows_the_referrals_own_name_and_state(
    clock, stored_patient, staff_client, provider_factory
):
    dana = provider_factory("dana-whitfield")
    dana.user = UserFactory(username="dana")
    dana.save()
    referral = Referral.objects.get(pk=_create(staff_client).json()["id"])
    staff_client.post(
        f"/api/referrals/{referral.id}/assign/", {"provider": "dana-whitfield"}, format="json"
    )
    client = Client()
    client.force_login(dana.user)
    html = client.get("/portal/referrals/").content.decode()
    assert "Jamie Doe" in html and "New York" in html
    assert "Morgan" not in html and "Illinois" not in html


def test_the_link_page_greets_the_person_by_the_name_on_the_referral(
    clock, stored_patient, staff_client, provider_factory
):
    provider_factory("dana-whitfield")
    referral = Referral.objects.get(pk=_create(staff_client).json()["id"])
    staff_client.post(
        f"/api/referrals/{referral.id}/assign/", {"provider": "dana-whitfield"}, format="json"
    )
    html = Client().get(f"/r/{referral_token(referral)}").content.decode()
    assert "Hi Jamie" in html
    assert "Morgan" not in html


def test_the_link_goes_to_the_phone_and_email_on_the_referral_never_the_stored_email(
    clock, stored_patient, staff_client, provider_factory
):
    provider_factory("dana-whitfield")
    response = _create(staff_client, patient=SENT | {"email": "jamie@example.org"})
    staff_client.post(
        f"/api/referrals/{response.json()['id']}/assign/",
        {"provider": "dana-whitfield"},
        format="json",
    )
    links = Notification.objects.filter(template="referral_link")
    assert {(n.channel, n.recipient) for n in links} == {
        ("sms", "+12125550142"),
        ("email", "jamie@example.org"),
    }
    assert "Jamie" in links.get(channel="email").body


def test_the_referrer_hears_the_referrals_initials_and_times_in_the_referrals_zone(
    clock, stored_patient, staff_client, provider_factory
):
    provider_factory("dana-whitfield")
    _create(staff_client)
    # The stored patient's record says other things, whatever happens to it meanwhile.
    Patient.objects.filter(pk=stored_patient.pk).update(timezone="America/Chicago")
    clock.move_to(NOW + timedelta(hours=73))
    assert tasks.escalate_overdue() == 1
    escalated = Notification.objects.filter(template="referral_escalated")
    assert "J.D." in escalated.get(channel="sms").body
    email = escalated.get(channel="email")
    assert "J.D." in email.subject and "EDT" in email.body
    assert not any("M.H." in n.body or "CDT" in n.body for n in Notification.objects.all())


def test_matching_reads_the_state_on_the_referral(
    clock, stored_patient, staff_client, provider_factory
):
    provider_factory("dana-whitfield", states=["NY"])
    provider_factory("nj-only", states=["NJ"])
    referral_id = _create(staff_client).json()["id"]
    Patient.objects.filter(pk=stored_patient.pk).update(state="NJ")
    response = staff_client.get(f"/api/referrals/{referral_id}/matches/")
    assert [m["provider"] for m in response.json()["results"]] == ["dana-whitfield"]
