"""A body Django refuses to read is, under /api/, the API's envelope: 413 when too large."""

from __future__ import annotations

import json

import pytest
from rest_framework.test import APIClient

from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db

LIMIT = 1000
BOOK_URL = "/api/appointments/"


@pytest.fixture(autouse=True)
def _small_limit(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = LIMIT


def assert_envelope(response, status: int, code: str) -> None:
    assert response.status_code == status, response.content[:200]
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == code
    assert set(response.json()) == {"code", "detail", "fields"}


def test_an_oversized_json_body_to_the_api_is_413_request_too_large():
    body = json.dumps({"patient": {"name": "x" * LIMIT}})

    response = APIClient().post(BOOK_URL, body, content_type="application/json")

    assert_envelope(response, 413, "request_too_large")


def test_an_oversized_directory_import_is_413_request_too_large():
    client = APIClient()
    client.force_authenticate(StaffFactory())

    response = client.post("/api/directory/import/", {"providers": ["x" * LIMIT]}, format="json")

    assert_envelope(response, 413, "request_too_large")


def test_an_oversized_form_body_to_the_api_is_413_request_too_large():
    response = APIClient().post(
        BOOK_URL,
        "name=" + "x" * LIMIT,
        content_type="application/x-www-form-urlencoded",
    )

    assert_envelope(response, 413, "request_too_large")


def test_too_many_form_fields_to_the_api_is_400_malformed_request(settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 5
    body = "&".join(f"f{n}=1" for n in range(10))

    response = APIClient().post(BOOK_URL, body, content_type="application/x-www-form-urlencoded")

    assert_envelope(response, 400, "malformed_request")


def test_an_oversized_form_to_a_page_keeps_djangos_400_page(client):
    response = client.post("/accounts/login/", {"username": "x" * LIMIT, "password": "p"})

    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
