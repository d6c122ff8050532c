"""Idempotency-Key on booking: replay the first answer, refuse a reused key, expire in 24 h."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from rest_framework.test import APIClient

from scheduling.models import Appointment, IdempotencyKey
from tests.factories import UserFactory
from tests.scheduling.booking_helpers import BOOK_URL, NOW, WED_10, WED_11, make_service, payload

pytestmark = pytest.mark.django_db


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def client() -> APIClient:
    return APIClient()


@pytest.fixture
def service():
    return make_service()


def post(client, body, key="key-1", **extra):
    return client.post(BOOK_URL, body, format="json", HTTP_IDEMPOTENCY_KEY=key, **extra)


def test_the_same_key_with_a_different_body_is_409_idempotency_key_reused(client, service, clock):
    assert post(client, payload(service, WED_10)).status_code == 201
    response = post(client, payload(service, WED_11))
    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_key_reused"
    assert Appointment.objects.count() == 1


def test_an_overlong_key_is_400(client, service, clock):
    response = post(client, payload(service, WED_10), key="k" * 201)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_idempotency_key"


def test_a_replay_answers_the_first_response_and_creates_nothing(client, service, clock):
    body = payload(service, WED_10)
    first = post(client, body)
    again = post(client, body)
    assert again.status_code == first.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Appointment.objects.count() == 1


def test_key_order_in_the_body_does_not_matter(client, service, clock):
    body = payload(service, WED_10)
    post(client, body)
    reordered = dict(reversed(list(body.items())))
    assert post(client, reordered).status_code == 201
    assert Appointment.objects.count() == 1


def test_a_refusal_is_replayed_too(client, service, clock):
    body = payload(service, WED_10, patient={"state": "CA"})
    first = post(client, body)
    assert first.status_code == 400
    assert post(client, body).json() == first.json()


def test_a_409_is_replayed_even_after_the_slot_frees(client, service, clock):
    post(client, payload(service, WED_10), key="a")
    body = payload(service, WED_10, patient={"phone": "+12125550199"})
    assert post(client, body, key="b").status_code == 409
    Appointment.objects.update(status="cancelled")
    assert post(client, body, key="b").status_code == 409


def test_the_stored_answer_keeps_no_working_link(client, service, clock):
    first = post(client, payload(service, WED_10)).json()
    stored = IdempotencyKey.objects.get().response_body
    token = first["manage_url"].rsplit("/", 1)[-1]
    assert token not in str(stored)


def test_a_key_expires_after_24_hours(client, service, clock):
    post(client, payload(service, WED_10))
    Appointment.objects.update(status="cancelled")
    clock.shift(timedelta(hours=24, minutes=1))
    response = post(client, payload(service, WED_10))
    assert response.status_code == 201
    assert Appointment.objects.count() == 2


def test_different_keys_are_different_requests(client, service, clock):
    post(client, payload(service, WED_10), key="a")
    response = post(client, payload(service, WED_10), key="b")
    assert response.status_code == 409


def test_purging_removes_only_expired_keys(client, service, clock):
    from scheduling.booking.idempotency import purge_expired_keys

    post(client, payload(service, WED_10), key="old")
    clock.shift(timedelta(hours=23))
    post(client, payload(service, WED_11), key="new")
    clock.shift(timedelta(hours=2))
    assert purge_expired_keys() == 1
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["new"]


def test_another_client_with_the_same_key_and_body_does_not_get_the_first_answer(
    client, service, clock
):
    body = payload(service, WED_10)
    first = post(client, body, REMOTE_ADDR="203.0.113.7")

    other = post(client, body, REMOTE_ADDR="198.51.100.9")

    assert "Idempotent-Replayed" not in other
    assert other.json()["code"] == "slot_unavailable"  # a fresh request for a taken slot
    assert first.json()["manage_url"].rsplit("/", 1)[-1] not in other.content.decode()
    assert Appointment.objects.count() == 1


def test_another_signed_in_user_at_the_same_address_does_not_get_the_first_answer(service, clock):
    alex, sam = APIClient(), APIClient()
    alex.force_authenticate(UserFactory())
    sam.force_authenticate(UserFactory())
    body = payload(service, WED_10)
    post(alex, body)

    other = post(sam, body)

    assert "Idempotent-Replayed" not in other
    assert other.json()["code"] == "slot_unavailable"


def test_a_signed_in_user_gets_the_replay_from_another_address(service, clock):
    user = APIClient()
    user.force_authenticate(UserFactory())
    body = payload(service, WED_10)
    first = post(user, body, REMOTE_ADDR="203.0.113.7")

    again = post(user, body, REMOTE_ADDR="198.51.100.9")

    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()


def test_the_stored_key_does_not_keep_the_client_address(client, service, clock):
    post(client, payload(service, WED_10), REMOTE_ADDR="203.0.113.7")

    row = IdempotencyKey.objects.get()
    assert "203.0.113.7" not in row.scope
    assert "203.0.113.7" not in str(row.response_body)
