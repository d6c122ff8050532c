"""Benchmark: 100 places freed at once, offered by text to 1,000 people waiting (issue 14).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bw_waitlist_bench \\
    REDIS_URL=redis://127.0.0.1:6379/2 .venv/bin/python bench/waitlist.py

Recreates and migrates the database, seeds BENCH_PROVIDERS group facilitators whose
meetings make 100 full sessions (10 seats each), puts 10 people in line for each session
(1,000 waiting entries), then times the "who is next" query (median of 200, with its plan)
and, with a real `qcluster` worker (Redis broker when REDIS_URL is set, else the ORM one)
sending to a local Twilio-speaking server, cancels one seat in each of the 100 sessions and
measures until every offer text has been sent. Checks one offer per freed seat, each to the
first in line, no duplicates. Targets: all offers sent within 10 s; who-is-next <= 5 ms.
"""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bw_waitlist_bench")
CLUSTER = f"bwbench{uuid.uuid4().hex[:6]}"
os.environ["Q_CLUSTER_NAME"] = CLUSTER

from bench.booking import SERVER_ENV, recreate_database, setup_django  # noqa: E402

PROVIDERS = int(os.environ.get("BENCH_PROVIDERS", "20"))
SESSIONS, SEATS, WAITING = 100, 10, 10


def seed() -> list[tuple[int, datetime]]:
    """Full sessions with a line each; returns (service id, start) of every session."""
    from datetime import time as clock

    from scheduling.booking.services import new_appointment
    from scheduling.booking.waitlist.links import new_token_fields
    from scheduling.booking.waitlist.models import WaitlistEntry
    from scheduling.models import (
        Appointment,
        Patient,
        Provider,
        ProviderLicense,
        Service,
        WeeklyHours,
    )

    now = datetime.now(UTC)
    per_provider = SESSIONS // PROVIDERS
    sessions: list[tuple[Service, datetime]] = []
    for index in range(PROVIDERS):
        provider = Provider.objects.create(
            slug=f"group-{index}", name=f"Group Host{index}", kind="peer_coach", timezone="UTC"
        )
        ProviderLicense.objects.create(provider=provider, state="NY")
        for weekday in range(7):
            WeeklyHours.objects.create(
                provider=provider, weekday=weekday, start=clock(18, 0), end=clock(19, 0)
            )
        service = Service.objects.create(
            provider=provider, slug="circle", name="Circle", duration_minutes=60,
            slot_step_minutes=60, min_notice_hours=0, horizon_days=60, capacity=SEATS,
        )  # fmt: skip
        first = (now + timedelta(days=2)).replace(hour=18, minute=0, second=0, microsecond=0)
        sessions += [(service, first + timedelta(days=d)) for d in range(per_provider)]
    people = Patient.objects.bulk_create(
        Patient(
            name=f"Person{i}",
            phone=f"+1212{5000000 + i:07d}",
            timezone="UTC",
            state="NY",
            sms_consent=i >= SESSIONS * SEATS,  # seat-holders get no texts: offers only
        )  # fmt: skip
        for i in range(SESSIONS * (SEATS + WAITING))
    )
    seated = iter(people[: SESSIONS * SEATS])
    waiting = iter(people[SESSIONS * SEATS :])
    visits, entries = [], []
    for service, start in sessions:
        visits += [new_appointment(service=service, patient=next(seated), start=start)
                   for _ in range(SEATS)]  # fmt: skip
        for n in range(WAITING):
            entry_id = uuid.uuid4()
            entries.append(
                WaitlistEntry(
                    id=entry_id,
                    provider_id=service.provider_id,
                    service=service,
                    patient=next(waiting),
                    session_start=start,
                    created_at=now + timedelta(seconds=n),
                    **new_token_fields(entry_id),
                )  # fmt: skip
            )
    Appointment.objects.bulk_create(visits)
    WaitlistEntry.objects.bulk_create(entries)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # as autovacuum would soon: plans from real statistics
    return [(service.pk, start) for service, start in sessions]


def who_is_next(sessions: list[tuple[int, datetime]]) -> None:
    from django.db import connection

    from scheduling.booking.waitlist.offers import next_in_line

    timings = []
    for index in range(200):
        service_id = sessions[index % len(sessions)][0]
        began = time.perf_counter()
        found = list(next_in_line(service_id).values_list("pk", flat=True)[:1])
        timings.append((time.perf_counter() - began) * 1000)
        assert found
    query = next_in_line(sessions[0][0]).values_list("pk", flat=True)[:1]
    sql, params = query.query.sql_with_params()
    raw = []
    with connection.cursor() as cursor:
        for _ in range(200):
            began = time.perf_counter()
            cursor.execute(sql, params)
            cursor.fetchall()
            raw.append((time.perf_counter() - began) * 1000)
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = " | ".join(row[0] for row in cursor.fetchall())
    print(
        f"who is next: median {statistics.median(timings):.2f} ms, "
        f"p95 {sorted(timings)[189]:.2f} ms over 200 queries through the ORM; the SQL alone "
        f"median {statistics.median(raw):.2f} ms (target <= 5 ms)"
    )
    print(f"plan: {plan}")


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        worker = subprocess.Popen(
            [sys.executable, "manage.py", "qcluster", "--skip-checks"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    deadline = time.monotonic() + 120
    while b"] running." not in log.read_bytes():
        if time.monotonic() > deadline:
            raise SystemExit("the worker did not start")
        time.sleep(0.2)
    return worker


def stop_worker(worker: subprocess.Popen[bytes]) -> None:
    worker.send_signal(signal.SIGTERM)
    try:
        worker.wait(timeout=30)
    except subprocess.TimeoutExpired:
        pass
    try:
        os.killpg(worker.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def free_places(sessions: list[tuple[int, datetime]], fake, worker_env: dict[str, str]) -> None:
    from django.db import connection

    from scheduling.booking.services import cancel_appointment
    from scheduling.booking.waitlist.models import WaitlistEntry, WaitlistOffer
    from scheduling.models import Appointment

    log = Path(tempfile.mkdtemp()) / "worker.log"
    worker = start_worker(worker_env, log)
    try:
        firsts = {
            (sid, start): Appointment.objects.filter(service_id=sid, start=start).first()
            for sid, start in sessions
        }

        def cancel(seat: Appointment) -> None:
            try:
                cancel_appointment(appointment=seat, actor="patient")
            finally:
                connection.close()

        began = time.perf_counter()
        # 100 people cancel at about the same moment: ten at a time, each on its own connection.
        with ThreadPoolExecutor(max_workers=10) as pool:
            list(pool.map(cancel, firsts.values()))
        cancelled_s = time.perf_counter() - began
        deadline = began + 120
        while len(fake.messages) < SESSIONS and time.perf_counter() < deadline:
            time.sleep(0.05)
        elapsed = time.perf_counter() - began
        offers = list(WaitlistOffer.objects.values_list("entry_id", "service_id", "start"))
        per_session = {(sid, start) for _, sid, start in offers}
        firsts_in_line = set(
            WaitlistEntry.objects.filter(created_at=min(
                WaitlistEntry.objects.values_list("created_at", flat=True)
            )).values_list("pk", flat=True)
        )  # fmt: skip
        texted = [m["to"] for m in fake.messages]
        print(
            f"{SESSIONS} places freed at once (cancelled by 10 clients in {cancelled_s:.2f} s): "
            f"{len(fake.messages)} offer texts sent in {elapsed:.2f} s (target <= 10 s); "
            f"{len(offers)} offers over {len(per_session)} sessions, "
            f"{sum(1 for e, _, _ in offers if e in firsts_in_line)} to the first in line, "
            f"{len(texted) - len(set(texted))} duplicate texts"
        )
        assert len(offers) == SESSIONS and len(per_session) == SESSIONS
    finally:
        stop_worker(worker)


def main() -> None:
    from tests.integration.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio

    recreate_database()
    redis_url = os.environ.get("REDIS_URL", "")
    fake = FakeTwilio().start()
    twilio = {
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_API_BASE_URL": fake.url, "TWILIO_FROM_NUMBER": "+15005550006",
    }  # fmt: skip
    os.environ.update(twilio)
    os.environ["Q_LOG_LEVEL"] = "ERROR"  # this process only enqueues: no line per task
    setup_django()
    worker_env = {**os.environ, **SERVER_ENV, **twilio, "Q_CLUSTER_NAME": CLUSTER,
                  "LOG_LEVEL": "INFO", "Q_LOG_LEVEL": "INFO"}  # fmt: skip
    began = time.perf_counter()
    sessions = seed()
    print(
        f"seeded {PROVIDERS} facilitators, {len(sessions)} full sessions of {SEATS} seats, "
        f"{len(sessions) * WAITING:,} waiting entries in {time.perf_counter() - began:.1f} s "
        f"(broker: {'Redis' if redis_url else 'ORM'})"
    )
    who_is_next(sessions)
    try:
        free_places(sessions, fake, worker_env)
    finally:
        fake.stop()
        if redis_url:
            import redis

            redis.from_url(redis_url).delete(CLUSTER)


if __name__ == "__main__":
    main()
