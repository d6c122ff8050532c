"""A referral joins the patient's record only when the person books through its link with
the number the link was sent to: the link proves possession of that one phone."""

from __future__ import annotations

from rest_framework.test import APIClient

from notifications.models import Notification
from referrals.links import referral_token
from referrals.models import Referral
from scheduling.models import Appointment, Patient
from tests.factories import PatientFactory
from tests.referrals.conftest import book


def _offered(staff_client, provider_factory, create_referral):
    dana = provider_factory("dana-whitfield")
    referral = create_referral()
    staff_client.post(
        f"/api/referrals/{referral.id}/assign/", {"provider": "dana-whitfield"}, format="json"
    )
    start = staff_client.get(f"/api/referrals/{referral.id}/matches/").json()["results"][0][
        "next_available"
    ]
    return referral, dana, start


def test_booking_through_the_link_with_the_referrals_phone_attaches_the_referral_to_the_patient(
    clock, staff_client, provider_factory, create_referral
):
    referral, dana, start = _offered(staff_client, provider_factory, create_referral)
    assert referral.patient is None

    response = book(referral, dana, start)

    assert response.status_code == 201, response.json()
    referral.refresh_from_db()
    appointment = Appointment.objects.get(pk=response.json()["id"])
    assert referral.patient == appointment.patient
    assert referral.patient.phone == "+12125550142"


def test_booking_through_the_link_with_a_different_phone_is_refused_and_changes_nothing(
    clock, staff_client, provider_factory, create_referral
):
    referral, dana, start = _offered(staff_client, provider_factory, create_referral)
    other = PatientFactory(phone="+12125550111", name="Morgan Hale", sms_consent=False)
    before = Patient.objects.values().get(pk=other.pk)
    messages = Notification.objects.count()

    response = APIClient().post(
        "/api/appointments/",
        {
            "provider": dana.slug,
            "service": "intake",
            "start": start,
            "patient": {
                "name": "Alex Rivera",
                "phone": "+12125550111",
                "timezone": "America/Los_Angeles",
                "state": "NY",
            },
            "sms_consent": True,
            "referral_token": referral_token(referral),
        },
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["code"] == "link_for_another_phone"
    assert "Morgan" not in response.content.decode()
    assert not Appointment.objects.exists()
    assert Patient.objects.values().get(pk=other.pk) == before
    assert Patient.objects.count() == 1
    assert Notification.objects.count() == messages
    after = Referral.objects.get(pk=referral.pk)
    assert (after.status, after.patient, after.appointment) == ("offered", None, None)


def test_a_link_alone_books_for_an_existing_patient_but_leaves_their_stored_details(
    clock, staff_client, provider_factory, create_referral
):
    existing = PatientFactory(
        phone="+12125550142",
        name="Robin Real",
        timezone="America/Denver",
        state="CO",
        sms_consent=False,
    )
    before = Patient.objects.values().get(pk=existing.pk)
    referral, dana, start = _offered(staff_client, provider_factory, create_referral)

    response = book(referral, dana, start)

    assert response.status_code == 201, response.json()
    assert "Robin Real" not in response.content.decode()
    assert Patient.objects.values().get(pk=existing.pk) == before
    assert Appointment.objects.get(pk=response.json()["id"]).patient == existing
