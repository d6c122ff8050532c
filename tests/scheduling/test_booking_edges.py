"""Odd but well-formed input never reaches a 500."""

from __future__ import annotations

import pytest
import time_machine
from rest_framework.test import APIClient

from tests.scheduling.booking_helpers import NOW, WED_10, book, make_service

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.mark.parametrize(
    "start",
    [
        "9999-12-31T23:30:00+00:00",
        "0001-01-01T00:00:00+05:00",
        "0001-01-01T00:00:00-05:00",
        "2026-03-04T10:00:00+23:59",
        "2027-03-04T10:00:00-05:00",
    ],
)
def test_extreme_starts_are_409_not_500(start):
    response = book(APIClient(), make_service(), start)
    assert response.status_code == 409, response.content
    assert response.json()["code"] == "slot_unavailable"


def test_a_very_long_name_is_400():
    response = book(APIClient(), make_service(), WED_10, patient={"name": "x" * 500})
    assert response.status_code == 400
    assert "name" in response.json()["fields"]["patient"]


def test_a_reschedule_to_an_extreme_start_is_409():
    client = APIClient()
    body = book(client, make_service(), WED_10).json()
    token = body["manage_url"].rsplit("/", 1)[-1]
    response = client.post(
        f"/api/appointments/{body['id']}/reschedule/?token={token}",
        {"start": "9999-12-31T23:59:00+00:00"},
        format="json",
    )
    assert response.status_code == 409


@pytest.mark.parametrize(
    ("action", "data"),
    [
        ("reschedule", []),
        ("reschedule", {"start": {"a": 1}}),
        ("reschedule", {"start": "2026-03-04T11:00:00"}),
        ("cancel", {"reason": {"a": 1}}),
        ("cancel", {"reason": "x" * 600}),
        ("attendance", {"status": 3}),
        ("attendance", "attended"),
    ],
)
def test_wrong_shapes_on_manage_actions_are_400(action, data):
    client = APIClient()
    body = book(client, make_service(), WED_10).json()
    token = body["manage_url"].rsplit("/", 1)[-1]
    response = client.post(
        f"/api/appointments/{body['id']}/{action}/?token={token}", data, format="json"
    )
    assert response.status_code in (400, 403), response.content
    assert set(response.json()) == {"code", "detail", "fields"}


def test_malformed_json_on_a_manage_action_is_400():
    client = APIClient()
    body = book(client, make_service(), WED_10).json()
    token = body["manage_url"].rsplit("/", 1)[-1]
    response = client.post(
        f"/api/appointments/{body['id']}/cancel/?token={token}",
        "{oops",
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json()["code"] == "malformed_request"


def test_a_form_encoded_booking_is_400_not_500():
    response = APIClient().post("/api/appointments/", {"provider": "x", "service": "y"})
    assert response.status_code == 400


def test_a_locked_database_is_503_busy_with_retry_after(monkeypatch):
    from django.db import OperationalError

    from scheduling.booking import services

    def locked(**kwargs):
        raise OperationalError("database is locked")

    monkeypatch.setattr(services, "book_appointment", locked)
    response = book(APIClient(), make_service(), WED_10)
    assert response.status_code == 503
    assert response.json()["code"] == "busy"
    assert response["Retry-After"] == "1"


def test_other_database_errors_are_not_disguised_as_busy(monkeypatch):
    from django.db import OperationalError

    from scheduling.booking import services

    def broken(**kwargs):
        raise OperationalError("disk I/O error")

    monkeypatch.setattr(services, "book_appointment", broken)
    client = APIClient(raise_request_exception=False)
    assert book(client, make_service(), WED_10).status_code == 500
