"""POST /api/directory/import/: staff only, same document and errors as the command."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from common.api_tokens import issue_api_token
from scheduling.models import Provider
from tests.factories import StaffFactory, UserFactory
from tests.scheduling.directory_documents import MARCUS, document, provider

pytestmark = pytest.mark.django_db
URL = "/api/directory/import/"


@pytest.fixture
def staff_client() -> APIClient:
    client = APIClient()
    client.force_authenticate(StaffFactory())
    return client


def test_anonymous_callers_get_401_and_nothing_is_written():
    response = APIClient().post(URL, document(), format="json")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert Provider.objects.count() == 0


def test_a_logged_in_user_who_is_not_staff_gets_403():
    client = APIClient()
    client.force_login(UserFactory())
    response = client.post(URL, document(), format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert Provider.objects.count() == 0


def test_a_non_staff_token_gets_403():
    token = issue_api_token(user=UserFactory())
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.post(URL, document(), format="json").status_code == 403


def test_malformed_json_is_400_malformed_request(staff_client: APIClient):
    response = staff_client.post(URL, '{"providers": [', content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "malformed_request"


def test_an_invalid_directory_is_400_with_every_path_in_fields(staff_client: APIClient):
    bad = provider(MARCUS, timezone="Mars/Olympus_Mons", kind="psychic")
    response = staff_client.post(URL, document(provider(), bad), format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid_directory"
    assert body["fields"] == {
        "marcus-lee.kind": "'psychic' is not one of therapist, addiction_medicine, counselor, "
        "peer_coach, group_facilitator",
        "marcus-lee.timezone": "'Mars/Olympus_Mons' is not an IANA time zone such as America/Chicago",
    }
    assert Provider.objects.count() == 0


def test_staff_import_returns_the_summary(staff_client: APIClient):
    response = staff_client.post(URL, document(provider(), provider(MARCUS)), format="json")
    assert response.status_code == 200
    assert response.json()["providers_created"] == 2
    assert set(Provider.objects.values_list("slug", flat=True)) == {"dana-whitfield", "marcus-lee"}


def test_a_staff_token_can_import():
    token = issue_api_token(user=StaffFactory())
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    response = client.post(URL, document(), format="json")
    assert response.status_code == 200
    assert response.json()["providers_created"] == 1


def test_a_second_post_updates_instead_of_duplicating(staff_client: APIClient):
    staff_client.post(URL, document(), format="json")
    response = staff_client.post(URL, document(provider(name="Dana W. Ortiz")), format="json")
    assert response.json()["providers_updated"] == 1
    assert Provider.objects.get().name == "Dana W. Ortiz"
