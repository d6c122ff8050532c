"""The patient's referral link: only the offered providers, booking closes the loop."""

from __future__ import annotations

from datetime import UTC

import pytest
import time_machine

from referrals.models import ReferralStatus
from scheduling.models import Appointment
from tests.scheduling.pages_helpers import NOW, WED_10, form_data, make_service
from tests.scheduling.referral_helpers import offer_referral

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def offered():
    service = make_service(slug="intake", provider_kwargs={"name": "Dana Whitfield"})
    other = make_service(slug="intake", provider_kwargs={"name": "Not Offered"})
    referral, token = offer_referral([service.provider])
    return referral, token, service, other


def test_a_bad_referral_token_is_404(client):
    assert client.get("/r/not-a-token").status_code == 404
    assert client.get("/r/not-a-token/someone/").status_code == 404
    assert client.post("/r/not-a-token/someone/book/").status_code == 404


def test_the_link_lists_only_the_offered_providers_without_clinical_words(client, offered):
    referral, token, service, other = offered
    response = client.get(f"/r/{token}")
    assert response.status_code == 200
    assert "Dana Whitfield" in response.text
    assert "Not Offered" not in response.text
    assert "Tue Mar 3, 9:00 AM EST" in response.text
    lowered = response.text.lower()
    for word in ("withdrawal", "opioid", "ed visit"):
        assert word not in lowered


def test_a_provider_not_offered_cannot_be_booked_through_the_link(client, offered):
    referral, token, service, other = offered
    assert client.get(f"/r/{token}/{other.provider.slug}/").status_code == 404
    response = client.post(f"/r/{token}/{other.provider.slug}/book/", form_data(other, WED_10))
    assert response.status_code == 404
    assert Appointment.objects.count() == 0


def test_the_picker_and_form_are_prefilled_for_the_referred_person(client, offered):
    referral, token, service, other = offered
    page = client.get(f"/r/{token}/{service.provider.slug}/")
    assert f"/r/{token}/{service.provider.slug}/book/?" in page.text
    start = WED_10.astimezone(UTC).isoformat()
    form = client.get(
        f"/r/{token}/{service.provider.slug}/book/",
        {"service": service.slug, "start": start, "state": "NY"},
    )
    assert 'value="Riley Jordan"' in form.text


def test_booking_through_the_link_schedules_the_referral(client, offered):
    referral, token, service, other = offered
    response = client.post(
        f"/r/{token}/{service.provider.slug}/book/",
        form_data(service, WED_10, name="Riley Jordan", phone="+12125550199"),
    )
    assert response.status_code == 302, response.content
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.SCHEDULED
    assert referral.appointment == Appointment.objects.get()
    again = client.get(f"/r/{token}")
    assert "You already have an appointment" in again.text


def test_a_cancelled_referral_link_says_it_is_not_active(client, offered):
    from referrals.services import cancel_referral

    referral, token, service, other = offered
    cancel_referral(referral=referral)
    response = client.get(f"/r/{token}")
    assert response.status_code == 410
    assert "not active any more" in response.text


def test_booking_through_the_link_page_with_another_phone_is_refused(client, offered):
    referral, token, service, other = offered
    response = client.post(
        f"/r/{token}/{service.provider.slug}/book/",
        form_data(service, WED_10, name="Riley Jordan", phone="+12125550142"),
    )
    assert response.status_code == 200
    assert "This link books for the phone number it was sent to." in response.text
    assert not Appointment.objects.exists()
    referral.refresh_from_db()
    assert (referral.status, referral.patient) == (ReferralStatus.OFFERED, None)
