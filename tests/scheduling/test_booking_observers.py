"""Observers named in APPOINTMENT_OBSERVERS hear every change inside its transaction.

This test module is itself the observer: it defines check_booking and appointment_changed.
"""

from __future__ import annotations

from typing import Any

import pytest
import time_machine
from rest_framework.test import APIClient

from common.errors import DomainError
from scheduling.models import Appointment, Patient
from tests.scheduling.booking_helpers import NOW, WED_10, WED_14, book, make_service, token_of

pytestmark = pytest.mark.django_db

calls: list[tuple[str, dict[str, Any]]] = []
refuse_token = "refused-token"
explode_on: set[str] = set()


def check_booking(*, referral_token: str, provider: Any, service: Any, phone: str) -> None:
    calls.append(("check_booking", {"referral_token": referral_token, "provider": provider}))
    if referral_token == refuse_token:
        raise DomainError("invalid_referral", "This referral link is not valid.")


def appointment_changed(*, appointment: Any, event: Any, referral_token: str | None) -> None:
    calls.append(("changed", {"kind": event.kind, "referral_token": referral_token}))
    if event.kind in explode_on:
        raise RuntimeError("observer failed")


@pytest.fixture(autouse=True)
def observe(settings):
    settings.APPOINTMENT_OBSERVERS = [__name__]
    calls.clear()
    explode_on.clear()
    with time_machine.travel(NOW, tick=False):
        yield


def test_a_refused_referral_token_books_nothing():
    response = book(APIClient(), make_service(), WED_10, referral_token=refuse_token)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_referral"
    assert not Appointment.objects.exists()
    assert not Patient.objects.exists()


def test_an_observer_failure_rolls_the_booking_back():
    explode_on.add("booked")
    client = APIClient(raise_request_exception=False)
    response = book(client, make_service(), WED_10)
    assert response.status_code == 500
    assert not Appointment.objects.exists()


def test_a_referred_booking_is_checked_then_reported_with_its_token():
    service = make_service()
    assert book(APIClient(), service, WED_10, referral_token="good").status_code == 201
    assert [name for name, _ in calls] == ["check_booking", "changed"]
    assert calls[0][1]["provider"] == service.provider
    assert calls[1][1] == {"kind": "booked", "referral_token": "good"}


def test_a_checked_referral_lets_a_new_patient_book_a_closed_provider():
    service = make_service(provider_kwargs={"accepting_new_patients": False})
    assert book(APIClient(), service, WED_10, referral_token="good").status_code == 201


def test_every_lifecycle_event_reaches_the_observers():
    client = APIClient()
    response = book(client, make_service(), WED_10)
    appointment_id, token = response.json()["id"], token_of(response)
    base = f"/api/appointments/{appointment_id}"
    client.post(f"{base}/reschedule/?token={token}", {"start": WED_14.isoformat()}, format="json")
    client.post(f"{base}/confirm/?token={token}", {}, format="json")
    client.post(f"{base}/cancel/?token={token}", {}, format="json")
    kinds = [data["kind"] for name, data in calls if name == "changed"]
    assert kinds == ["booked", "rescheduled", "patient_confirmed", "cancelled"]
    assert all(data["referral_token"] is None for _, data in calls[1:])
