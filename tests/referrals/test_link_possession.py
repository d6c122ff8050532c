"""A referral joins the patient's record only when the person books through its link with
the number the link was sent to: the link proves possession of that one phone."""

from __future__ import annotations

from scheduling.models import Appointment
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

