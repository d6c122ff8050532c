"""/api/patients/me/... with ?token= and the care-circle pages (issue 15)."""

from __future__ import annotations

from datetime import timedelta
from importlib import import_module

import pytest
from django.apps import apps
from rest_framework.test import APIClient

from scheduling.booking import links
from scheduling.circle.models import ContactPreference, Resource, SupportPerson, SupportStatus
from tests.notifications.conftest import NOW, book

pytestmark = pytest.mark.django_db
JO = {"name": "Jo Rivera", "phone": "+12125550199", "relationship": "sister"}


@pytest.fixture
def token(clock):  # type: ignore[no-untyped-def]
    return links.manage_token(book())


def url(path: str, token: str) -> str:
    return f"/api/patients/me/{path}?token={token}"


def test_a_token_that_opens_nothing_learns_nothing():
    api = APIClient()
    for path in ("contact/", "support-persons/", "disclosures/"):
        response = api.get(url(path, "not-a-token"))
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"


def test_contact_rules_are_read_and_set(token):
    api = APIClient()
    assert api.get(url("contact/", token)).json()["texts_ok"] is True

    body = {"quiet_from": "22:00", "quiet_until": "07:30", "texts_ok": False}
    response = api.put(url("contact/", token), body, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["quiet_until"] == "07:30:00"
    assert ContactPreference.objects.get().texts_ok is False


def test_half_a_quiet_window_is_refused_with_the_error_envelope(token):
    response = APIClient().put(url("contact/", token), {"quiet_from": "22:00"}, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert "quiet_until" in response.json()["fields"]


def test_a_support_person_is_named_listed_withdrawn_and_disclosed(token):
    api = APIClient()
    until = (NOW + timedelta(days=60)).isoformat()

    created = api.post(url("support-persons/", token), {**JO, "until": until}, format="json")
    assert created.status_code == 201, created.content
    person = created.json()
    assert person["status"] == "invited" and person["may_receive"] is False
    assert person["signed_source"] == "private link (API)"
    assert "phone" not in person

    listed = api.get(url("support-persons/", token)).json()
    assert [p["id"] for p in listed] == [person["id"]]
    withdrawn = api.post(url(f"support-persons/{person['id']}/withdraw/", token))
    assert withdrawn.json()["status"] == "revoked"
    (disclosure,) = api.get(url("disclosures/", token)).json()
    assert disclosure["to"] == "Jo Rivera" and disclosure["status"] == "Not sent"


def test_a_year_and_a_day_is_refused(token):
    until = (NOW + timedelta(days=366)).isoformat()
    response = APIClient().post(
        url("support-persons/", token), {**JO, "until": until}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["fields"] == {"until": ["Choose an end date within one year."]}


def test_another_patients_support_person_cannot_be_withdrawn(token, clock):
    from scheduling.circle.support import add_support_person

    other = book(phone="+12125550111")
    person = add_support_person(
        patient=other.patient, until=NOW + timedelta(days=9), source="test", **JO
    )

    response = APIClient().post(url(f"support-persons/{person.pk}/withdraw/", token))

    assert response.status_code == 404
    assert SupportPerson.objects.get().status == SupportStatus.INVITED


def test_the_circle_page_saves_contact_choices(token, client):
    response = client.post(
        f"/m/{token}/circle/contact",
        {"quiet_from": "21:00", "quiet_until": "08:00", "texts_ok": "on", "preferred_name": "Sam"},
    )

    assert response.status_code == 302
    assert ContactPreference.objects.get().preferred_name == "Sam"
    assert "Sam" in client.get(f"/m/{token}/circle").content.decode()


def test_the_circle_page_of_a_bad_link_is_a_404(client):
    assert client.get("/m/nope/circle").status_code == 404


def test_the_rebook_link_leads_to_the_same_providers_times(token, client):
    response = client.get(f"/m/{token}/rebook")

    assert response.status_code == 302
    assert response["Location"].startswith("/providers/")


def test_the_resources_are_seeded_and_listed(client):
    Resource.objects.all().delete()
    import_module("scheduling.migrations.0015_seed_resources").seed(apps, None)

    page = client.get("/resources/").content.decode()

    for words in ("988", "1-800-662-4357", "FindTreatment.gov", "Narcotics Anonymous"):
        assert words in page
    Resource.objects.filter(name="FindTreatment.gov").update(is_active=False)
    assert "FindTreatment.gov" not in client.get("/resources/").content.decode()


def test_every_patient_page_footer_links_the_resources(client):
    assert 'href="/resources/"' in client.get("/").content.decode()
