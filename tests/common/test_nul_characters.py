"""A NUL character anywhere in a request is refused before any query sees it (PostgreSQL
cannot hold one in text, so it would be a 500): 400, or 404 in a path."""

from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.test import APIClient

from tests.factories import StaffFactory, UserFactory

pytestmark = pytest.mark.django_db

ADMIN_FILTER = "/admin/scheduling/patient/?state__exact=N%00"
ADMIN_PATH = "/admin/django_q/success/a%00b/change/"


@pytest.fixture
def staff_api() -> APIClient:
    client = APIClient()
    client.force_authenticate(StaffFactory())
    return client


@pytest.fixture
def operator() -> Client:
    client = Client()
    client.force_login(UserFactory(username="operator", is_staff=True, is_superuser=True))
    return client


def assert_envelope(response, status: int, code: str) -> None:
    assert response.status_code == status, response.content[:200]
    assert response.json()["code"] == code
    assert set(response.json()) == {"code", "detail", "fields"}


def test_a_nul_in_the_referral_status_filter_is_400_invalid_parameter(staff_api):
    response = staff_api.get("/api/referrals/?status=a%00b")

    assert_envelope(response, 400, "invalid_parameter")
    assert response.json()["fields"] == {"status": ["Null characters are not allowed."]}


def test_a_nul_in_a_parameter_name_is_400_invalid_parameter(staff_api):
    assert_envelope(staff_api.get("/api/referrals/?sta%00tus=open"), 400, "invalid_parameter")


def test_a_nul_in_an_admin_changelist_filter_is_a_400_page(operator):
    response = operator.get(ADMIN_FILTER)

    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")


def test_a_nul_in_a_posted_form_is_a_400_page(client):
    response = client.post("/accounts/login/", {"username": "a\x00", "password": "x"})

    assert response.status_code == 400


def test_a_nul_in_a_form_body_to_the_api_is_400_invalid_parameter(staff_api):
    response = staff_api.post("/api/referrals/", {"reason": "a\x00"}, format="multipart")

    assert_envelope(response, 400, "invalid_parameter")


def test_a_nul_in_an_admin_path_is_404(operator):
    assert operator.get(ADMIN_PATH).status_code == 404


def test_a_nul_in_an_api_path_is_404_not_found(staff_api):
    assert_envelope(staff_api.get("/api/referrals/a%00b/"), 404, "not_found")


def test_a_nul_hidden_in_a_quoted_cookie_is_refused(client):
    # Cookie parsing turns the octal escape \000 inside a quoted value into a NUL.
    response = client.get("/api/providers/", HTTP_COOKIE='sessionid="abcdefgh\\000ijk"')

    assert_envelope(response, 400, "invalid_parameter")


def test_a_nul_in_a_header_is_refused(client):
    response = client.get("/api/referrals/", HTTP_AUTHORIZATION="Token abc\x00def")

    assert_envelope(response, 400, "invalid_parameter")


def test_ordinary_requests_pass_untouched(staff_api):
    assert staff_api.get("/api/referrals/?status=open").status_code == 200


@pytest.mark.postgres
@pytest.mark.parametrize("url", [ADMIN_FILTER, ADMIN_PATH, "/api/referrals/?status=a%00b"])
def test_on_postgresql_no_nul_in_a_url_reaches_a_query(operator, url):
    operator.raise_request_exception = False

    assert operator.get(url).status_code in {400, 404}


@pytest.mark.postgres
@pytest.mark.parametrize(
    "headers",
    [{"HTTP_COOKIE": 'sessionid="abcdefgh\\000ijk"'}, {"HTTP_AUTHORIZATION": "Token abc\x00def"}],
    ids=["session cookie", "token header"],
)
def test_on_postgresql_no_nul_in_a_header_reaches_a_query(client, headers):
    client.raise_request_exception = False

    assert client.get("/api/referrals/", **headers).status_code == 400
