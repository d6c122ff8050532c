"""The portal's referral inbox: the provider sees the clinical reason, accepts or declines."""

from __future__ import annotations

import pytest
import time_machine

from referrals.models import OfferStatus, ReferralOffer
from tests.factories import UserFactory
from tests.scheduling.pages_helpers import NOW, make_service
from tests.scheduling.referral_helpers import offer_referral

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def offered(client):
    service = make_service(slug="intake", requires_approval=True)
    provider = service.provider
    provider.user = UserFactory(username="dana")
    provider.save()
    referral, _ = offer_referral([provider])
    client.force_login(provider.user)
    return referral, provider


def test_the_inbox_needs_a_provider_login(client):
    assert client.get("/portal/referrals/").status_code == 302


def test_another_providers_referral_cannot_be_answered(client, offered):
    referral, _ = offered
    stranger = make_service().provider
    stranger.user = UserFactory(username="stranger")
    stranger.save()
    client.force_login(stranger.user)
    assert client.post(f"/portal/referrals/{referral.pk}/accept/").status_code == 404
    assert ReferralOffer.objects.get().status == OfferStatus.OPEN


def test_accept_and_decline_only_answer_post(client, offered):
    referral, _ = offered
    assert client.get(f"/portal/referrals/{referral.pk}/accept/").status_code == 405
    assert client.get(f"/portal/referrals/{referral.pk}/decline/").status_code == 405


def test_declining_without_a_reason_is_refused(client, offered):
    referral, _ = offered
    response = client.post(f"/portal/referrals/{referral.pk}/decline/", {"reason": ""}, follow=True)
    assert "Say why you are declining" in response.text
    assert ReferralOffer.objects.get().status == OfferStatus.OPEN


def test_the_inbox_shows_the_reason_to_the_provider(client, offered):
    text = client.get("/portal/referrals/").text
    assert "Riley Jordan" in text
    assert "withdrawal" in text
    assert "Dr. Kim" in text


def test_accepting_lets_the_patient_book(client, offered):
    referral, _ = offered
    response = client.post(f"/portal/referrals/{referral.pk}/accept/", follow=True)
    assert "Accepted" in response.text
    assert ReferralOffer.objects.get().status == OfferStatus.ACCEPTED


def test_declining_with_a_reason_records_it(client, offered):
    referral, _ = offered
    client.post(f"/portal/referrals/{referral.pk}/decline/", {"reason": "No openings soon"})
    offer = ReferralOffer.objects.get()
    assert offer.status == OfferStatus.DECLINED
    assert offer.decline_reason == "No openings soon"
    assert "No referrals are waiting" in client.get("/portal/referrals/").text
