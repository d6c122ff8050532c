"""Who may create and see referrals: their organization, their offered provider, else 404."""

from __future__ import annotations

from rest_framework.test import APIClient

from referrals.models import Coordinator, Organization, Referral
from tests.factories import StaffFactory, UserFactory
from tests.referrals.conftest import provider_client, referral_payload


def _client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_an_anonymous_caller_cannot_create_a_referral(specialty):
    response = APIClient().post("/api/referrals/", referral_payload(service=""), format="json")
    assert response.status_code in (401, 403)
    assert Referral.objects.count() == 0


def test_a_user_who_is_neither_staff_nor_coordinator_cannot_create_one(specialty):
    response = _client(UserFactory()).post(
        "/api/referrals/", referral_payload(service=""), format="json"
    )
    assert (response.status_code, response.json()["code"]) == (403, "permission_denied")


def test_invalid_input_is_a_400_naming_the_fields_and_writes_nothing(staff_client, specialty):
    payload = referral_payload(urgency="whenever")
    payload["patient"]["state"] = "XX"
    payload["patient"]["phone"] = "12"
    payload["referrer"] = {"name": "Dr. Lee"}
    response = staff_client.post("/api/referrals/", payload, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert {"urgency", "patient", "referrer"} <= set(body["fields"])
    assert {"state", "phone"} <= set(body["fields"]["patient"])
    assert Referral.objects.count() == 0


def test_an_unknown_specialty_is_a_400(staff_client, specialty):
    response = staff_client.post(
        "/api/referrals/", referral_payload(specialty="astrology"), format="json"
    )
    assert (response.status_code, response.json()["code"]) == (400, "unknown_specialty")


def test_a_coordinator_sees_their_organizations_referral_and_another_organization_gets_404(
    staff_client, create_referral
):
    referral = create_referral(service="")
    assert staff_client.get(f"/api/referrals/{referral.id}/").status_code == 200
    other = UserFactory(username="outsider")
    Coordinator.objects.create(
        user=other, organization=Organization.objects.create(slug="x", name="X")
    )
    for path in ("", "matches/"):
        response = _client(other).get(f"/api/referrals/{referral.id}/{path}")
        assert (response.status_code, response.json()["code"]) == (404, "not_found")
    response = _client(other).post(f"/api/referrals/{referral.id}/cancel/", {}, format="json")
    assert response.status_code == 404
    assert Referral.objects.get(pk=referral.pk).status == "new"


def test_staff_without_an_organization_do_not_see_an_organizations_referral(create_referral):
    referral = create_referral(service="")
    assert _client(StaffFactory()).get(f"/api/referrals/{referral.id}/").status_code == 404


def test_a_staff_user_without_an_organization_creates_and_sees_unaffiliated_referrals(specialty):
    client = _client(StaffFactory(username="ops"))
    response = client.post("/api/referrals/", referral_payload(service=""), format="json")
    assert response.status_code == 201, response.json()
    assert client.get(f"/api/referrals/{response.json()['id']}/").status_code == 200


def test_anonymous_and_malformed_ids_get_404(staff_client, create_referral):
    referral = create_referral(service="")
    assert APIClient().get(f"/api/referrals/{referral.id}/").status_code == 404
    assert staff_client.get("/api/referrals/not-a-uuid/").status_code == 404


def test_a_provider_sees_only_referrals_offered_to_them_and_cannot_see_matches(
    clock, staff_client, create_referral, provider_factory
):
    dana = provider_factory("dana-whitfield")
    sam = provider_factory("sam-kerr", name="Sam Kerr")
    referral = create_referral()
    staff_client.post(
        f"/api/referrals/{referral.id}/assign/", {"provider": "dana-whitfield"}, format="json"
    )

    seen = provider_client(dana).get(f"/api/referrals/{referral.id}/")
    assert seen.status_code == 200
    assert seen.json()["reason"]  # the provider needs the clinical context
    assert "scheduling_url" not in seen.json()
    assert provider_client(dana).get(f"/api/referrals/{referral.id}/matches/").status_code == 403
    assert provider_client(sam).get(f"/api/referrals/{referral.id}/").status_code == 404
    declined = provider_client(sam).post(
        f"/api/referrals/{referral.id}/decline/", {"reason": "full"}, format="json"
    )
    assert declined.status_code == 404


def test_a_provider_cannot_cancel_or_reassign(
    clock, staff_client, create_referral, provider_factory
):
    dana = provider_factory("dana-whitfield")
    referral = create_referral()
    staff_client.post(f"/api/referrals/{referral.id}/assign/", {}, format="json")
    for action in ("cancel", "assign"):
        response = provider_client(dana).post(
            f"/api/referrals/{referral.id}/{action}/", {}, format="json"
        )
        assert response.status_code == 403
    assert Referral.objects.get(pk=referral.pk).status == "offered"
