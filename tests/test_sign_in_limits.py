"""Sign-in and password-reset forms are limited per address (issue 11: limits that hold)."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/accounts/login/", "/admin/login/"])
def test_sign_in_posts_from_one_address_are_limited(settings, path):
    settings.LOGIN_RATE_LIMIT = "3/min"
    client = Client()
    answers = [
        client.post(path, {"username": "nobody", "password": "wrong"}).status_code for _ in range(5)
    ]
    assert answers[:3] == [200, 200, 200] and answers[3:] == [429, 429]


def test_password_reset_posts_from_one_address_are_limited(settings, mailoutbox):
    settings.PASSWORD_RESET_RATE_LIMIT = "2/hour"
    client = Client()
    answers = [
        client.post("/accounts/password_reset/", {"email": "a@example.net"}).status_code
        for _ in range(4)
    ]
    assert answers[:2] == [302, 302] and answers[2:] == [429, 429]


def test_a_limited_answer_says_when_to_come_back(settings):
    settings.LOGIN_RATE_LIMIT = "1/min"
    client = Client()
    client.post("/accounts/login/", {"username": "x", "password": "y"})
    response = client.post("/accounts/login/", {"username": "x", "password": "y"})
    assert response.status_code == 429 and int(response["Retry-After"]) >= 1


def test_password_reset_posts_for_one_account_are_limited_across_addresses(settings, mailoutbox):
    settings.PASSWORD_RESET_ACCOUNT_RATE_LIMIT = "2/hour"
    answers = [
        Client(REMOTE_ADDR=f"203.0.113.{n}")
        .post("/accounts/password_reset/", {"email": email})
        .status_code
        for n, email in enumerate(["a@example.net", "A@Example.net ", "a@example.net"])
    ]
    other = Client(REMOTE_ADDR="203.0.113.9").post(
        "/accounts/password_reset/", {"email": "b@example.net"}
    )
    assert answers == [302, 302, 429] and other.status_code == 302
