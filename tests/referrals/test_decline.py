"""A provider's decline sends the referral back to matching: the next match is offered."""

from __future__ import annotations

from notifications.models import Notification
from referrals.models import Referral
from tests.referrals.conftest import provider_client


def _assign(client, referral, **body):
    response = client.post(f"/api/referrals/{referral.id}/assign/", body, format="json")
    assert response.status_code == 200, response.json()
    return response.json()


def test_a_decline_needs_a_reason(clock, staff_client, provider_factory, create_referral):
    dana = provider_factory("dana")
    referral = create_referral()
    _assign(staff_client, referral, provider="dana")
    response = provider_client(dana).post(
        f"/api/referrals/{referral.id}/decline/", {}, format="json"
    )
    assert response.status_code == 400
    assert "reason" in response.json()["fields"]
    assert Referral.objects.get(pk=referral.pk).status == "offered"


def test_a_decline_offers_the_next_match_and_texts_the_patient_its_link(
    clock, staff_client, provider_factory, create_referral
):
    dana = provider_factory("dana", languages=["es"])
    provider_factory("sam", name="Sam Kerr")
    referral = create_referral()
    _assign(staff_client, referral, provider="dana")

    response = provider_client(dana).post(
        f"/api/referrals/{referral.id}/decline/",
        {"reason": "No openings for intake"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "offered"
    assert body["provider"] == "sam"
    assert {o["provider"]: o["status"] for o in body["offers"]} == {
        "dana": "declined",
        "sam": "open",
    }
    assert [e["to_status"] for e in body["events"]][-2:] == ["declined", "offered"]
    texts = Notification.objects.filter(channel="sms", template="referral_link").order_by("id")
    assert [t.body.removeprefix("Bridgeway: ").split(" can see you")[0] for t in texts] == [
        "Dana W.",
        "Sam K.",
    ]
    assert not Notification.objects.filter(template="referral_declined").exists()
    # The one who declined is not proposed again.
    matches = staff_client.get(f"/api/referrals/{referral.id}/matches/").json()["results"]
    assert [m["provider"] for m in matches] == ["sam"]


def test_a_decline_with_no_other_match_tells_the_referrer_discreetly(
    clock, staff_client, provider_factory, create_referral
):
    dana = provider_factory("dana")
    referral = create_referral()
    _assign(staff_client, referral, provider="dana")
    response = provider_client(dana).post(
        f"/api/referrals/{referral.id}/decline/", {"reason": "Caseload full"}, format="json"
    )
    assert response.json()["status"] == "declined"
    email = Notification.objects.get(template="referral_declined", channel="email")
    sms = Notification.objects.get(template="referral_declined", channel="sms")
    assert email.recipient == "pat.lee@mercy.example.org"
    assert email.subject == "Referral update for A.R."
    assert "Caseload" not in email.body and "Caseload" not in sms.body
    assert sms.recipient == "+12125550199"
    # Staff may offer it again once someone new joins the directory.
    provider_factory("lee", name="Lee Park")
    assert _assign(staff_client, referral)["status"] == "offered"


def test_when_several_were_offered_one_decline_leaves_the_others_open(
    clock, staff_client, provider_factory, create_referral
):
    dana = provider_factory("dana")
    provider_factory("sam", name="Sam Kerr")
    referral = create_referral()
    _assign(staff_client, referral)
    provider_client(dana).post(
        f"/api/referrals/{referral.id}/decline/", {"reason": "away"}, format="json"
    )
    referral.refresh_from_db()
    assert referral.status == "offered"
    assert referral.provider.slug == "sam"


def test_a_service_needing_approval_waits_for_acceptance_before_the_link_is_sent(
    clock, staff_client, provider_factory, create_referral
):
    dana = provider_factory("dana", requires_approval=True)
    referral = create_referral()
    _assign(staff_client, referral, provider="dana")
    assert not Notification.objects.filter(template="referral_link").exists()
    response = provider_client(dana).post(
        f"/api/referrals/{referral.id}/accept/", {}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "accepted"
    assert Notification.objects.filter(template="referral_link", channel="sms").count() == 1


def test_a_patient_without_sms_consent_gets_no_text(
    clock, staff_client, provider_factory, create_referral
):
    from tests.referrals.conftest import referral_payload

    provider_factory("dana")
    patient = referral_payload()["patient"] | {"sms_consent": False}
    referral = create_referral(patient=patient)
    _assign(staff_client, referral)
    assert not Notification.objects.filter(channel="sms", template="referral_link").exists()
    assert Notification.objects.filter(channel="email", template="referral_link").count() == 1
