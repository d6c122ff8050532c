"""Concurrent bursts against a real multi-process server on PostgreSQL with Redis: every
limit admits at most its count, however many requests arrive at once (issue 11)."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator

import pytest
from django.db import connection

from tests.integration.booking_server import Server, race, seed

pytestmark = [
    pytest.mark.integration,
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.django_db(transaction=True),
]
BURST = 40


@pytest.fixture
def server(django_db_setup) -> Iterator[Server]:
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    redis = os.environ["REDIS_URL"].rsplit("/", 1)[0] + "/7"  # a database of its own
    limits = {
        "REDIS_URL": redis,
        "VERIFICATION_SEND_RATE_PER_CLIENT": "10/hour",
        "VERIFICATION_SEND_RATE_PER_NUMBER": "1000/hour",
        "BOOKING_RATE_LIMIT": "15/min",
    }
    import redis as redis_client

    redis_client.Redis.from_url(redis).flushdb()
    running = Server(url, workers=4, threads=5, env=limits)
    yield running
    running.stop()
    redis_client.Redis.from_url(redis).flushdb()


def statuses(outcomes) -> Counter:
    return Counter(outcome.status for outcome in outcomes)


def test_a_burst_of_code_requests_from_one_address_admits_exactly_the_limit(server):
    calls = [
        lambda n=n: server.request("POST", "/api/verifications/", {"phone": f"+1212555{n:04d}"})
        for n in range(BURST)
    ]
    counted = statuses(race(calls))
    assert counted == {202: 10, 429: BURST - 10}, counted


def test_a_burst_of_bookings_from_one_address_admits_exactly_the_limit(server):
    seed("burst-provider")
    body = {
        "provider": "burst-provider",
        "service": "single",
        "start": "2030-01-01T10:00:00+00:00",
        "patient": {"name": "A", "phone": "+12125550100", "timezone": "UTC", "state": "NY"},
        "sms_consent": False,
    }
    counted = statuses(race([lambda: server.request("POST", "/api/appointments/", body)] * BURST))
    # Admitted requests answer (400 verification_required here); the rest are 429.
    assert counted[429] == BURST - 15, counted
    assert sum(n for status, n in counted.items() if status >= 500) == 0, counted
