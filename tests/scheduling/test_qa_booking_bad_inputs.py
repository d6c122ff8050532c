"""QA: no booking or manage body, however malformed, gets a 500 (PostgreSQL refuses NULs)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import time_machine
from rest_framework.test import APIClient

from scheduling.models import Appointment
from tests.scheduling.booking_helpers import BOOK_URL, NOW, WED_10, make_service, payload, token_of

pytestmark = pytest.mark.django_db

Mutation = Callable[[dict[str, Any]], None]
ODD_VALUES = ["a\x00b", None, 5, [], {}, "x" * 5000]


def _set(field: str, value: Any) -> Mutation:
    return lambda body: body.__setitem__(field, value)


def _set_patient(field: str, value: Any) -> Mutation:
    return lambda body: body["patient"].__setitem__(field, value)


BAD_BOOKINGS: dict[str, Mutation] = {
    **{f"{f}={v!r:.12}": _set(f, v) for f in ("provider", "service", "start") for v in ODD_VALUES},
    **{
        f"patient.{f}={v!r:.12}": _set_patient(f, v)
        for f in ("phone", "timezone", "state")
        for v in ODD_VALUES
    },
    "patient.name with NUL": _set_patient("name", "Al\x00ex"),
    "patient.email with NUL": _set_patient("email", "a\x00@example.net"),
    "referral_token with NUL": _set("referral_token", "t\x00"),
    "patient as a list": _set("patient", []),
    "consent as text": _set("sms_consent", "true"),
    "naive start": _set("start", "2026-03-04T10:00:00"),
    "start at the end of time": _set("start", "9999-12-31T23:59:59+14:00"),
    "start at the beginning of time": _set("start", "0001-01-01T00:00:00-14:00"),
}


@pytest.fixture
def service():
    return make_service()


@pytest.mark.parametrize("name", list(BAD_BOOKINGS))
def test_a_malformed_booking_is_a_4xx_and_books_nothing(service, name):
    body = payload(service, WED_10)
    BAD_BOOKINGS[name](body)
    with time_machine.travel(NOW, tick=False):
        response = APIClient().post(BOOK_URL, body, format="json", HTTP_IDEMPOTENCY_KEY="k")

    assert 400 <= response.status_code < 500, response.content
    assert "code" in response.json()
    assert not Appointment.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        {"start": "a\x00"},
        {"start": 5},
        {"start": "9999-12-31T23:59:59+14:00"},
        {"reason": "a\x00b"},
        {"status": "a\x00"},
        [],
        "text",
    ],
    ids=repr,
)
def test_a_malformed_manage_body_never_gets_a_500_from_any_action(service, body):
    client = APIClient()
    with time_machine.travel(NOW, tick=False):
        booked = client.post(BOOK_URL, payload(service, WED_10), format="json")
        url = f"/api/appointments/{booked.json()['id']}/{{}}/?token={token_of(booked)}"
        for action in ("cancel", "reschedule", "confirm", "attendance"):
            response = client.post(url.format(action), body, format="json")
            # Actions that ignore the body may succeed; none may fail with a 500.
            assert response.status_code < 500, (action, response.content)


@pytest.mark.parametrize("key", ["a\x00", "x" * 300, "\t"], ids=repr)
def test_an_unusable_idempotency_key_is_400(service, key):
    with time_machine.travel(NOW, tick=False):
        response = APIClient().post(
            BOOK_URL, payload(service, WED_10), format="json", HTTP_IDEMPOTENCY_KEY=key
        )

    assert response.status_code == 400
    assert not Appointment.objects.exists()
