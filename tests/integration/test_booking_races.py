"""Many clients at once against a real multi-process server: never a double booking, never a 500.

Run on PostgreSQL (the exclusion constraint and the Service row lock decide) and on a
file-based SQLite database (the IMMEDIATE transaction serializes writers; a writer that
cannot get the lock in time answers 503 `busy` with Retry-After).
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection

from tests.integration.booking_server import (
    Outcome,
    Server,
    race,
    race_proof,
    run_django,
    seed,
)

# transaction=True: the server runs in other processes and must see committed rows.
pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
CLIENTS = 20


class Backend:
    def __init__(self, name: str, server: Server, sqlite_path: str | None = None) -> None:
        self.name = name
        self.server = server
        self.sqlite_path = sqlite_path

    def seed(self, slug: str) -> None:
        if self.sqlite_path:
            run_django(
                self.server.database_url,
                f"from tests.integration.booking_server import seed\nseed({slug!r})",
            )
        else:
            seed(slug)

    def active_rows(self, slug: str, start: datetime | None = None) -> int:
        sql = (
            "SELECT count(*) FROM scheduling_appointment a JOIN scheduling_provider p"
            " ON a.provider_id = p.id WHERE p.slug = %s AND a.status IN ('requested', 'confirmed')"
        )
        params: list[Any] = [slug]
        if start is not None:
            sql += " AND a.start = %s"
            params.append(start if not self.sqlite_path else start.strftime("%Y-%m-%d %H:%M:%S"))
        if self.sqlite_path:
            with sqlite3.connect(self.sqlite_path) as db:
                return db.execute(sql.replace("%s", "?"), params).fetchone()[0]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()[0]


@pytest.fixture(
    scope="module", params=[pytest.param("postgres", marks=pytest.mark.postgres), "sqlite"]
)
def backend(request, tmp_path_factory) -> Iterator[Backend]:
    if request.param == "postgres":
        request.getfixturevalue("django_db_setup")
        db = connection.settings_dict
        url = (
            f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
        )
        if db.get("PASSWORD"):
            url = url.replace("@", f":{db['PASSWORD']}@", 1)
        server = Server(url, workers=4, threads=5)
        yield Backend("postgres", server)
    else:
        path = tmp_path_factory.mktemp("races") / "races.sqlite3"
        url = f"sqlite:///{path}"
        run_django(
            url,
            "from django.core.management import call_command\ncall_command('migrate', verbosity=0)",
        )
        server = Server(url, workers=4, threads=5)
        yield Backend("sqlite", server, str(path))
    server.stop()


@pytest.fixture
def slug(backend, request) -> str:
    name = f"race-{uuid.uuid4().hex[:10]}"
    backend.seed(name)
    return name


def at(hour: int, minute: int = 0, days: int = 2) -> datetime:
    day = (datetime.now(UTC) + timedelta(days=days)).date()
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


def booking(slug: str, service: str, start: datetime, n: int) -> dict[str, Any]:
    return {
        "provider": slug,
        "service": service,
        "start": start.isoformat(),
        "patient": {
            "name": f"Client {n}",
            "phone": f"+1212555{n:04d}",
            "timezone": "America/New_York",
            "state": "NY",
        },
        "sms_consent": False,
        "verification": race_proof(slug, n),
    }


def book_call(backend: Backend, body: dict[str, Any], headers: dict[str, str] | None = None):
    return lambda: backend.server.request("POST", "/api/appointments/", body, headers)


def assert_clean(outcomes: list[Outcome], backend: Backend, *, winners: int) -> list[Outcome]:
    """Exactly `winners` 201s; every other answer a clean 409 (or a 503 busy on SQLite)."""
    won = [o for o in outcomes if o.status == 201]
    for outcome in outcomes:
        if outcome.status == 201:
            continue
        if outcome.status == 503 and backend.name == "sqlite":
            assert outcome.body["code"] == "busy"
            assert "Retry-After" in outcome.headers
            continue
        assert outcome.status == 409, outcome
        assert outcome.body["code"] in {
            "slot_unavailable",
            "invalid_transition",
            "series_conflict",
        }, outcome
    assert len(won) == winners, [(o.status, o.body.get("code")) for o in outcomes]
    return won


def test_twenty_clients_booking_one_slot_get_one_201_and_clean_409s(backend, slug):
    start = at(10)
    outcomes = race([book_call(backend, booking(slug, "single", start, n)) for n in range(CLIENTS)])
    assert_clean(outcomes, backend, winners=1)
    assert backend.active_rows(slug) == 1


def test_overlapping_but_different_starts_admit_one_booking(backend, slug):
    starts = [at(10), at(10, 30)]
    calls = [book_call(backend, booking(slug, "single", starts[n % 2], n)) for n in range(CLIENTS)]
    assert_clean(race(calls), backend, winners=1)
    assert backend.active_rows(slug) == 1


def test_requested_appointments_hold_their_slot_in_a_race(backend, slug):
    start = at(11)
    outcomes = race(
        [book_call(backend, booking(slug, "approval", start, n)) for n in range(CLIENTS)]
    )
    won = assert_clean(outcomes, backend, winners=1)
    assert won[0].body["status"] == "requested"
    assert backend.active_rows(slug) == 1


def test_a_group_of_capacity_five_seats_exactly_five_of_twenty(backend, slug):
    start = at(14)
    outcomes = race([book_call(backend, booking(slug, "group", start, n)) for n in range(CLIENTS)])
    assert_clean(outcomes, backend, winners=5)
    assert backend.active_rows(slug) == 5


def test_a_reschedule_racing_new_bookings_lets_one_take_the_slot(backend, slug):
    status, first, _ = backend.server.request(
        "POST", "/api/appointments/", booking(slug, "single", at(8), 9999)
    )
    assert status == 201
    token = first["manage_url"].rsplit("/", 1)[-1]
    target = at(16)
    move = lambda: backend.server.request(  # noqa: E731
        "POST",
        f"/api/appointments/{first['id']}/reschedule/?token={token}",
        {"start": target.isoformat()},
    )
    calls = [move] + [
        book_call(backend, booking(slug, "single", target, n)) for n in range(CLIENTS - 1)
    ]
    outcomes = race(calls)
    moved = outcomes[0].status == 200
    booked = [o for o in outcomes[1:] if o.status == 201]
    assert moved + len(booked) == 1, [(o.status, o.body.get("code")) for o in outcomes]
    assert_clean(
        [o for o in outcomes[1:]] + ([] if moved else [outcomes[0]]), backend, winners=len(booked)
    )
    assert backend.active_rows(slug, target) == 1
    assert backend.active_rows(slug) == (1 if moved else 2)
    if not moved:
        assert backend.active_rows(slug, at(8)) == 1  # the original stays where it was


def test_two_rebookings_racing_after_a_cancellation_admit_one(backend, slug):
    start = at(18)
    status, first, _ = backend.server.request(
        "POST", "/api/appointments/", booking(slug, "single", start, 9998)
    )
    assert status == 201
    token = first["manage_url"].rsplit("/", 1)[-1]
    status, _, _ = backend.server.request(
        "POST", f"/api/appointments/{first['id']}/cancel/?token={token}", {"reason": "race"}
    )
    assert status == 200
    outcomes = race([book_call(backend, booking(slug, "single", start, n)) for n in range(2)])
    assert_clean(outcomes, backend, winners=1)
    assert backend.active_rows(slug, start) == 1


def test_concurrent_requests_with_one_idempotency_key_book_once(backend, slug):
    body = booking(slug, "single", at(20), 4242)
    key = {"Idempotency-Key": f"race-{uuid.uuid4()}"}
    outcomes = race([book_call(backend, body, key) for _ in range(10)])
    ok = [o for o in outcomes if o.status == 201]
    others = [o for o in outcomes if o.status != 201]
    assert all(o.status == 503 and backend.name == "sqlite" for o in others), others
    assert ok and len({o.body["id"] for o in ok}) == 1
    assert backend.active_rows(slug) == 1


# --- recurring series (issue 13) ---------------------------------------------------------


def series_booking(slug: str, start: datetime, n: int, count: int, on_conflict: str) -> dict:
    body = booking(slug, "weekly", start, n)
    return {**body, "repeat": {"every_weeks": 1, "count": count}, "on_conflict": on_conflict}


def test_two_series_sharing_one_date_with_fail_admit_one_series(backend, slug):
    first, second = at(10), at(10, days=9)  # the second starts on the first's second date
    calls = [
        book_call(backend, series_booking(slug, first if n % 2 else second, n, 2, "fail"))
        for n in range(10)
    ]
    won = assert_clean(race(calls), backend, winners=1)
    assert len(won[0].body["appointments"]) == 2
    assert backend.active_rows(slug, at(10, days=9)) == 1
    assert backend.active_rows(slug) == 2


def test_two_series_sharing_one_date_with_skip_both_book_and_one_holds_the_date(backend, slug):
    first, second = at(12), at(12, days=9)
    calls = [
        book_call(backend, series_booking(slug, first, 1, 2, "skip")),
        book_call(backend, series_booking(slug, second, 2, 2, "skip")),
    ]
    won = assert_clean(race(calls), backend, winners=2)
    assert sorted(len(o.body["skipped"]) for o in won) == [0, 1]
    assert backend.active_rows(slug, at(12, days=9)) == 1
    assert backend.active_rows(slug) == 3


def test_single_bookings_racing_a_series_let_one_take_each_date(backend, slug):
    shared = at(15, days=9)
    calls = [book_call(backend, series_booking(slug, at(15), 0, 3, "fail"))] + [
        book_call(backend, booking(slug, "weekly", shared, n)) for n in range(1, 10)
    ]
    outcomes = race(calls)
    series_won = outcomes[0].status == 201
    assert_clean(outcomes, backend, winners=1)
    assert backend.active_rows(slug, shared) == 1
    assert backend.active_rows(slug) == (3 if series_won else 1)
