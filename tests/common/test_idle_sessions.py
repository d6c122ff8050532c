"""A signed-in session ends after SESSION_IDLE_TIMEOUT_MINUTES without a request."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings

from tests.factories import ProviderFactory, UserFactory

pytestmark = pytest.mark.django_db

START = datetime(2026, 3, 9, 13, 0, tzinfo=UTC)


@pytest.fixture
def portal(client):
    user = UserFactory()
    ProviderFactory(user=user)
    with time_machine.travel(START, tick=False) as clock:
        client.force_login(user)
        yield client, clock


def _signed_in(client) -> bool:
    return client.get("/portal/").status_code == 200


def test_the_idle_timeout_is_thirty_minutes_by_default():
    assert settings.SESSION_IDLE_TIMEOUT_MINUTES == 30
    assert settings.SESSION_COOKIE_AGE == 30 * 60


def test_a_session_idle_past_the_timeout_is_signed_out(portal):
    client, clock = portal
    assert _signed_in(client)
    clock.shift(timedelta(minutes=31))
    response = client.get("/portal/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_each_request_keeps_an_active_session_alive(portal):
    client, clock = portal
    for _ in range(4):  # two hours in all, never 30 minutes apart
        clock.shift(timedelta(minutes=29))
        assert _signed_in(client)
