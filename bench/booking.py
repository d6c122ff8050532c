"""Benchmark: booking through the HTTP API on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bw_c_bench .venv/bin/python bench/booking.py

Recreates and migrates the database, seeds a directory, starts gunicorn on a free port, then:
  A. 8 clients booking DISTINCT slots for 20 s (every answer should be 201);
  B. 8 clients fighting over the SAME slots for 10 s (one 201 per slot, the rest 409);
  C. proof of possession: 200 codes started and checked through the API, one client;
and prints bookings/s, p50/p95 latency, SQL queries per booking (in-process, with
CaptureQueriesContext) and the ratio of a booking's median latency to the median of a bare
single-row INSERT transaction into scheduling_appointment through psycopg.
Targets (issue 3): p95 <= 60 ms, <= 12 queries per booking. Every booking carries a proof of
possession made before the timed runs (issue 11), so A and B time the booking alone.
Options: BENCH_SECONDS (20), BENCH_FIGHT_SECONDS (10), BENCH_CLIENTS (8), BENCH_WORKERS (3),
BENCH_THREADS (4), BENCH_DEBUG (0).
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DATABASE_URL = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bw_c_bench")
SECONDS = float(os.environ.get("BENCH_SECONDS", "20"))
FIGHT_SECONDS = float(os.environ.get("BENCH_FIGHT_SECONDS", "10"))
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "8"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "3"))
THREADS = int(os.environ.get("BENCH_THREADS", "4"))
DEBUG = os.environ.get("BENCH_DEBUG", "0")
CONN_MAX_AGE = os.environ.get("DB_CONN_MAX_AGE", "60")
SECRET = "bench-" + secrets.token_hex(16)

SERVER_ENV = {
    "DATABASE_URL": DATABASE_URL,
    "DEBUG": DEBUG,
    "SECRET_KEY": SECRET,
    # A production-shaped run: patients' details encrypted with real (throwaway) keys.
    "FIELD_ENCRYPTION_KEYS": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
    "FIELD_HASH_KEY": secrets.token_urlsafe(32),
    "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
    "PUBLIC_BASE_URL": "http://127.0.0.1",
    "BOOKING_RATE_LIMIT": "100000000/min",
    "BOOKING_PER_PROVIDER_RATE_LIMIT": "100000000/day",
    "VERIFICATION_SEND_RATE_PER_NUMBER": "100000000/min",
    "VERIFICATION_SEND_RATE_PER_CLIENT": "100000000/min",
    "VERIFICATION_CHECK_RATE_PER_CLIENT": "100000000/min",
    "DB_CONN_MAX_AGE": CONN_MAX_AGE,
    "LOG_LEVEL": "ERROR",
}


def recreate_database() -> None:
    import psycopg

    parts = urlsplit(DATABASE_URL)
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    env = {**os.environ, **SERVER_ENV}
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
    )


def setup_django() -> None:
    os.environ.update(SERVER_ENV)
    os.environ["DEBUG"] = "1"  # in-process only: the test client host and query capture
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def seed(providers: int) -> list[str]:
    from datetime import time as clock

    from scheduling.models import Provider, ProviderLicense, Service, WeeklyHours

    slugs = []
    for index in range(providers):
        provider = Provider.objects.create(
            slug=f"bench-{index}", name=f"Bench Provider{index}", kind="therapist", timezone="UTC"
        )
        ProviderLicense.objects.create(provider=provider, state="NY")
        for weekday in range(7):
            WeeklyHours.objects.create(
                provider=provider, weekday=weekday, start=clock(0, 0), end=clock(23, 30)
            )
        Service.objects.create(
            provider=provider,
            slug="visit",
            name="Visit",
            duration_minutes=30,
            buffer_before_minutes=0,
            buffer_after_minutes=0,
            min_notice_hours=1,
            horizon_days=365,
            slot_step_minutes=30,
        )
        slugs.append(provider.slug)
    return slugs


def slot_starts(first_day: int, days: int) -> list[datetime]:
    today = datetime.now(UTC).date()
    starts = []
    for offset in range(first_day, first_day + days):
        day = today + timedelta(days=offset)
        base = datetime(day.year, day.month, day.day, tzinfo=UTC)
        starts += [base + timedelta(minutes=30 * i) for i in range(47)]
    return starts


def phone(n: int) -> str:
    return f"+1212{200 + n // 10000 % 800:03d}{n % 10000:04d}"


def body(provider: str, start: datetime, n: int) -> bytes:
    return json.dumps(
        {
            "provider": provider,
            "service": "visit",
            "start": start.isoformat(),
            "patient": {
                "name": f"Bench Patient{n}",
                "phone": phone(n),
                "email": "",
                "timezone": "America/New_York",
                "state": "NY",
            },
            "sms_consent": True,
            "verification": f"bench-proof-{n}",
        }
    ).encode()


def seed_proofs(numbers: range) -> None:
    """The code step, done before the timed bookings: a proof for every phone they use."""
    from django.utils import timezone

    from common.tokens import hash_token
    from notifications.models import PhoneVerification

    later = timezone.now() + timedelta(hours=2)  # fresh for the whole run
    PhoneVerification.objects.bulk_create(
        (
            PhoneVerification(
                phone=phone(n),
                code_hash="-",
                expires_at=later,
                verified_at=later,
                token_hash=hash_token(f"bench-proof-{n}"),
            )
            for n in numbers
        ),
        batch_size=5000,
    )


def verification_latency(port: int, samples: int = 200) -> tuple[list[float], list[float]]:
    """POST /api/verifications/ then /check/ with the texted code: (start s, check s)."""
    import re

    from common.crypto import blind_index
    from notifications.models import Notification

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    starts: list[float] = []
    checks: list[float] = []
    for n in range(samples):
        number = phone(990000 + n)
        t0 = time.perf_counter()
        conn.request(
            "POST",
            "/api/verifications/",
            json.dumps({"phone": number}),
            {"Content-Type": "application/json"},
        )
        response = conn.getresponse()
        started = json.loads(response.read())
        starts.append(time.perf_counter() - t0)
        assert response.status == 202, started
        text = Notification.objects.filter(
            template="verification_code", recipient_hash=blind_index(number)
        )
        code = re.search(r"\b(\d{6})\b", text.latest("id").body)
        assert code is not None
        t0 = time.perf_counter()
        conn.request(
            "POST",
            f"/api/verifications/{started['id']}/check/",
            json.dumps({"code": code.group(1)}),
            {"Content-Type": "application/json"},
        )
        response = conn.getresponse()
        response.read()
        checks.append(time.perf_counter() - t0)
        assert response.status == 200
    conn.close()
    return starts, checks


class Server:
    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(256)
        self.port = self.sock.getsockname()[1]
        fd = self.sock.fileno()
        os.set_inheritable(fd, True)
        gunicorn = str(Path(sys.executable).with_name("gunicorn"))
        self.process = subprocess.Popen(
            [gunicorn, "config.wsgi:application", "--bind", f"fd://{fd}"]
            + ["--workers", str(WORKERS), "--threads", str(THREADS), "--worker-class", "gthread"]
            + ["--log-level", "warning", "--keep-alive", "30"],
            cwd=ROOT,
            env={**os.environ, **SERVER_ENV, "DEBUG": DEBUG},
            pass_fds=(fd,),
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/healthz/")
                if conn.getresponse().status == 200:
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("server did not start")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=20)
        self.sock.close()


def run_clients(
    port: int, plans: list[list[tuple[str, datetime]]], seconds: float, counter: list[int]
):
    """Each client works through its plan until time is up; returns [(status, seconds)]."""
    results: list[tuple[int, float]] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds
    barrier = threading.Barrier(len(plans))

    def client(plan: list[tuple[str, datetime]]) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine = []
        barrier.wait()
        for provider, start in plan:
            if time.monotonic() >= stop_at:
                break
            with lock:
                counter[0] += 1
                n = counter[0]
            t0 = time.perf_counter()
            try:
                conn.request(
                    "POST",
                    "/api/appointments/",
                    body(provider, start, n),
                    {"Content-Type": "application/json"},
                )
                response = conn.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                status = -1
            mine.append((status, time.perf_counter() - t0))
        with lock:
            results.extend(mine)

    threads = [threading.Thread(target=client, args=(plan,)) for plan in plans]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, time.monotonic() - began


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))] * 1000


def _area(sql: str) -> str:
    if '"scheduling_auditevent"' in sql:
        return "audit"  # the access log's one row (issue 12)
    for prefix in ("notifications_", "referrals_", "django_q_", "scheduling_"):
        if f'"{prefix}' in sql:
            return prefix.rstrip("_")
    return "savepoint/other" if "SAVEPOINT" in sql else "other"


def queries_per_booking(
    provider: str, starts: list[datetime], base_n: int
) -> tuple[float, int, dict[str, float]]:
    """Mean and max queries of one booking over the HTTP stack in-process, and by area."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    counts = []
    areas: dict[str, int] = {}
    for i, start in enumerate(starts):
        with CaptureQueriesContext(connection) as ctx:
            response = client.post(
                "/api/appointments/",
                body(provider, start, base_n + i),
                content_type="application/json",
            )
        assert response.status_code == 201, response.content
        counts.append(len(ctx.captured_queries))
        for query in ctx.captured_queries:
            area = _area(query["sql"])
            areas[area] = areas.get(area, 0) + 1
    return (
        statistics.mean(counts),
        max(counts),
        {area: n / len(starts) for area, n in sorted(areas.items())},
    )


def sequential_latency(provider: str, day: int, base_n: int, *, stub_messages: bool) -> str:
    """One client in-process: wall p50/p95 and CPU p50 of 30 bookings (a diagnostic split)."""
    from django.test import Client

    import scheduling.booking.services as booking_services

    original = booking_services.record_appointment_notifications
    if stub_messages:
        booking_services.record_appointment_notifications = lambda **kwargs: None
    client = Client()
    walls, cpus = [], []
    try:
        for i, start in enumerate(slot_starts(day, 1)[:30]):
            wall, cpu = time.perf_counter(), time.process_time()
            response = client.post(
                "/api/appointments/",
                body(provider, start, base_n + i),
                content_type="application/json",
            )
            assert response.status_code == 201, response.content
            walls.append(time.perf_counter() - wall)
            cpus.append(time.process_time() - cpu)
    finally:
        booking_services.record_appointment_notifications = original
    return (
        f"wall p50 {pct(walls, 50):.1f} ms, p95 {pct(walls, 95):.1f} ms; "
        f"CPU p50 {pct(cpus, 50):.1f} ms"
    )


def insert_baseline(samples: int = 300) -> float:
    """Median seconds of one bare INSERT ... ; COMMIT into scheduling_appointment via psycopg."""
    import psycopg

    from scheduling.models import Appointment, Patient, Service

    service = Service.objects.select_related("provider").get(provider__slug="bench-baseline")
    patient = Patient.objects.create(
        name="Base Line", phone="+12125559999", timezone="UTC", state="NY"
    )
    table = Appointment._meta.db_table
    sql = (
        f'INSERT INTO {table} (id, provider_id, service_id, patient_id, start, "end", '
        "blocked_start, blocked_end, session_key, status, modality, video_room, manage_token_salt,"
        " manage_token_hash, sequence, cancel_reason, cancelled_late, created_at, updated_at)"
        " VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,'confirmed','video',%s,'s',%s,0,'',false,now(),now())"
    )
    base = datetime.now(UTC) + timedelta(days=400)
    timings = []
    with psycopg.connect(DATABASE_URL) as conn:
        for i in range(samples):
            start = base + timedelta(minutes=30 * i)
            end = start + timedelta(minutes=30)
            params = (
                uuid.uuid4(),
                service.provider_id,
                service.pk,
                patient.pk,
                start,
                end,
                start,
                end,
                str(uuid.uuid4()),
                secrets.token_urlsafe(16),
                secrets.token_hex(32),
            )
            t0 = time.perf_counter()
            conn.execute(sql, params)
            conn.commit()
            timings.append(time.perf_counter() - t0)
        conn.execute(f"DELETE FROM {table} WHERE provider_id = %s", (service.provider_id,))
        conn.commit()
    return statistics.median(timings)


def report(title: str, results: list[tuple[int, float]], elapsed: float) -> float:
    statuses: dict[int, int] = {}
    for status, _ in results:
        statuses[status] = statuses.get(status, 0) + 1
    created = [t for s, t in results if s == 201]
    every = [t for _, t in results]
    print(f"\n{title}")
    print(f"  requests {len(results)} in {elapsed:.1f} s; answers {dict(sorted(statuses.items()))}")
    print(f"  bookings/s {len(created) / elapsed:.1f}   requests/s {len(results) / elapsed:.1f}")
    print(f"  latency all answers: p50 {pct(every, 50):.1f} ms  p95 {pct(every, 95):.1f} ms")
    print(f"  latency of 201s:     p50 {pct(created, 50):.1f} ms  p95 {pct(created, 95):.1f} ms")
    return pct(created, 50) / 1000


def main() -> None:
    print(
        f"database {DATABASE_URL}; gunicorn {WORKERS} workers x {THREADS} threads (gthread); "
        f"DEBUG={DEBUG}; DB_CONN_MAX_AGE={CONN_MAX_AGE}; {CLIENTS} clients; "
        f"observers {os.environ.get('DJANGO_SETTINGS_MODULE', 'config.settings')}"
    )
    recreate_database()
    setup_django()
    from django.db.models import Count

    from scheduling.models import Appointment, Provider, ProviderLicense, Service

    slugs = seed(CLIENTS)
    baseline_provider = Provider.objects.create(
        slug="bench-baseline", name="Base Line", kind="therapist", timezone="UTC"
    )
    ProviderLicense.objects.create(provider=baseline_provider, state="NY")
    Service.objects.create(
        provider=baseline_provider, slug="visit", name="Visit", duration_minutes=30
    )

    seed_proofs(range(0, 60000))
    for base in (900000, 950000, 960000):
        seed_proofs(range(base, base + 200))
    mean_q, max_q, by_area = queries_per_booking(slugs[0], slot_starts(300, 1)[:20], 900000)

    server = Server()
    try:
        counter = [0]
        plans = [[(slug, start) for start in slot_starts(2, 300)] for slug in slugs]
        # warm-up: every worker imports and connects once
        run_clients(
            server.port, [[(slugs[0], s)] for s in slot_starts(330, 1)[:CLIENTS]], 5, counter
        )
        results, elapsed = run_clients(server.port, plans, SECONDS, counter)
        p50 = report(
            f"A. {CLIENTS} clients booking distinct slots ({CLIENTS} providers, one each)",
            results,
            elapsed,
        )

        fight = [(slugs[0], start) for start in slot_starts(200, 90)]
        fight_results, fight_elapsed = run_clients(
            server.port, [fight] * CLIENTS, FIGHT_SECONDS, counter
        )
        report(f"B. {CLIENTS} clients fighting over the same slots", fight_results, fight_elapsed)
        doubled = (
            Appointment.objects.filter(
                provider__slug=slugs[0], status__in=["requested", "confirmed"]
            )
            .values("start")
            .order_by()
            .annotate(n=Count("id"))
            .filter(n__gt=1)
            .count()
        )
        print(f"  slots with more than one active booking: {doubled}")

        sends, checks = verification_latency(server.port)
        print(f"\nC. proof of possession, one client, {len(checks)} codes (outside A and B)")
        print(
            f"  POST /api/verifications/ (text queued): p50 {pct(sends, 50):.1f} ms  p95 {pct(sends, 95):.1f} ms"
        )
        print(
            f"  POST /api/verifications/{{id}}/check/:    p50 {pct(checks, 50):.1f} ms  p95 {pct(checks, 95):.1f} ms"
        )
    finally:
        server.stop()

    full = sequential_latency(slugs[1], 310, 950000, stub_messages=False)
    core = sequential_latency(slugs[1], 311, 960000, stub_messages=True)
    insert = insert_baseline()
    print("\nOne client, in-process (no HTTP server), sequential")
    print(f"  full booking:                                    {full}")
    print(f"  without recording notifications (diagnostic):   {core}")
    print("\nSQL")
    print(f"  queries per booking (in-process, 20 bookings): mean {mean_q:.1f}, max {max_q}")
    print("  by area: " + ", ".join(f"{area} {n:.1f}" for area, n in by_area.items()))
    print(
        f"  bare INSERT+COMMIT median {insert * 1000:.2f} ms; booking p50 / insert = {p50 / insert:.1f}x"
    )
    print("\ntargets: p95 <= 60 ms, <= 12 queries per booking")


if __name__ == "__main__":
    main()
