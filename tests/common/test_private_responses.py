"""Responses with patients' details are never cached, and token pages send no Referer."""

from __future__ import annotations

import pytest
import time_machine
from django.test import Client
from rest_framework.test import APIClient

from scheduling.calendar.feeds import feed_token
from tests.factories import StaffFactory, UserFactory
from tests.scheduling.booking_helpers import NOW, WED_10, book, make_service, token_of
from tests.scheduling.referral_helpers import offer_referral

pytestmark = pytest.mark.django_db


@pytest.fixture
def booking():
    with time_machine.travel(NOW, tick=False):
        service = make_service()
        response = book(APIClient(), service, WED_10)
        assert response.status_code == 201
        yield service, response


def _no_store(response) -> bool:
    return "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]


def test_an_appointment_answer_from_the_api_is_not_stored(booking):
    service, booked = booking
    assert _no_store(booked)
    token, appointment_id = token_of(booked), booked.json()["id"]
    assert _no_store(APIClient().get(f"/api/appointments/{appointment_id}/?token={token}"))


def test_a_verification_answer_is_not_stored(sms_outbox):
    response = APIClient().post("/api/verifications/", {"phone": "+12125550142"}, format="json")
    assert response.status_code == 202 and _no_store(response)


def test_a_referral_answer_is_not_stored(db):
    client = APIClient()
    client.force_authenticate(StaffFactory())
    assert _no_store(client.get("/api/referrals/"))


@pytest.mark.parametrize("path", ["/referrals/board/", "/referrals/home/"])
def test_staff_pages_are_not_stored(path):
    client = Client()
    client.force_login(StaffFactory())
    assert _no_store(client.get(path))


def test_the_calendar_feed_keeps_its_conditional_caching_but_private(booking):
    service, _ = booking
    response = Client().get(f"/calendar/{feed_token(provider=service.provider)}.ics")
    assert response["Cache-Control"] == "private, no-cache" and response.has_header("ETag")


def test_manage_pages_send_no_referrer(booking):
    _, booked = booking
    response = Client().get(f"/m/{token_of(booked)}")
    assert response["Referrer-Policy"] == "no-referrer" and _no_store(response)


def test_referral_link_pages_send_no_referrer(booking):
    service, _ = booking
    with time_machine.travel(NOW, tick=False):
        _, token = offer_referral([service.provider])
        response = Client().get(f"/r/{token}")
    assert response.status_code == 200 and response["Referrer-Policy"] == "no-referrer"


def test_other_pages_keep_same_origin_referrers():
    assert Client().get("/")["Referrer-Policy"] == "same-origin"


def _cancel(client: Client, token: str, origin: str, *, with_csrf: bool = True):
    client.get(f"/m/{token}")
    data = {"reason": "Something came up"}
    if with_csrf:
        data["csrfmiddlewaretoken"] = client.cookies["csrftoken"].value
    return client.post(f"/m/{token}/cancel", data, HTTP_ORIGIN=origin)


def test_a_form_posted_from_a_no_referrer_page_passes_csrf_by_its_token(booking):
    _, booked = booking
    with time_machine.travel(NOW, tick=False):
        response = _cancel(Client(enforce_csrf_checks=True), token_of(booked), "null")
    assert response.status_code == 302


def test_a_null_origin_without_the_csrf_token_is_refused(booking):
    _, booked = booking
    client = Client(enforce_csrf_checks=True)
    response = _cancel(client, token_of(booked), "null", with_csrf=False)
    assert response.status_code == 403


def test_a_null_origin_is_refused_off_the_token_pages():
    client = Client(enforce_csrf_checks=True)
    client.get("/accounts/login/")
    response = client.post(
        "/accounts/login/",
        {
            "username": UserFactory().username,
            "password": "correct horse battery staple",
            "csrfmiddlewaretoken": client.cookies["csrftoken"].value,
        },
        HTTP_ORIGIN="null",
    )
    assert response.status_code == 403
