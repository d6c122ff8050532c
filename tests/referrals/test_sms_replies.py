"""A referred patient's SMS reply moves the referral too: X cancels and reopens the link."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from twilio.request_validator import RequestValidator

from referrals.models import Referral
from tests.referrals.conftest import book

TOKEN = "test-auth-token"
BASE = "https://bridgeway.example.org"


@pytest.fixture(autouse=True)
def _twilio(settings):
    settings.TWILIO_AUTH_TOKEN = TOKEN
    settings.PUBLIC_BASE_URL = BASE


def _text_in(client, body: str, sid: str) -> None:
    params = {"MessageSid": sid, "From": "+12125550142", "To": "+15005550006", "Body": body}
    signature = RequestValidator(TOKEN).compute_signature(BASE + "/webhooks/twilio/sms/", params)
    response = client.post(
        "/webhooks/twilio/sms/",
        urlencode(params),
        content_type="application/x-www-form-urlencoded",
        HTTP_X_TWILIO_SIGNATURE=signature,
    )
    assert response.status_code == 200, response.content


def test_replying_x_cancels_the_visit_and_the_referral_is_offered_again(
    clock, client, staff_client, provider_factory, create_referral
):
    dana = provider_factory("dana-whitfield")
    referral = create_referral()
    staff_client.post(f"/api/referrals/{referral.id}/assign/", {}, format="json")
    start = staff_client.get(f"/api/referrals/{referral.id}/matches/").json()["results"][0][
        "next_available"
    ]
    assert book(referral, dana, start).status_code == 201

    _text_in(client, "C", "SM-confirm")
    assert Referral.objects.get(pk=referral.pk).status == "scheduled"
    _text_in(client, " x ", "SM-cancel")
    referral.refresh_from_db()
    assert referral.status == "offered"
    assert referral.appointment is None
    assert book(referral, dana, start).status_code == 201
