"""Benchmark: what the access log (issue 12) costs the pages that show patients.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bw_audit_bench .venv/bin/python bench/audit.py
    .venv/bin/python bench/audit.py          # a fresh SQLite file under /tmp

Seeds one provider with BENCH_PATIENTS patients (one visit each, BENCH_PER_DAY a day from
today on), BENCH_REFERRALS open referrals and a coordinator, then requests each page in-process
(Django's test client, the whole middleware stack) BENCH_RUNS times with the log and as
many times without it (scheduling.audit.services._insert swapped for a no-op), alternating
so both see the same load. Prints the median of each, the difference, the SQL statements
per request with and without, and the rows one request writes.
Target (issue 12): at most +2 ms p50 and one extra statement per request.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._data import setup_django

RUNS = int(os.environ.get("BENCH_RUNS", "200"))
PATIENTS = int(os.environ.get("BENCH_PATIENTS", "60"))
PER_DAY = int(os.environ.get("BENCH_PER_DAY", "8"))
REFERRALS = int(os.environ.get("BENCH_REFERRALS", "30"))
TARGET_MS = 2.0


def seed() -> dict[str, Any]:
    from django.contrib.auth import get_user_model

    from common.tokens import derive_token, hash_token, new_salt
    from referrals.models import Coordinator, Organization, Referral
    from referrals.services import create_referral
    from scheduling.audit.models import AuditEvent
    from scheduling.models import Appointment, Patient, Provider, Service, Specialty

    # The bench's own log rows first: a patient with an accounting cannot be deleted.
    AuditEvent.objects.filter(patient__sms_consent_source="bench-audit").delete()
    AuditEvent.objects.filter(object_type="referral", patient=None).delete()
    Referral.objects.filter(referrer_name="Bench").delete()
    Appointment.objects.filter(provider__slug="audit-bench").delete()
    Patient.objects.filter(sms_consent_source="bench-audit").delete()
    Provider.objects.filter(slug="audit-bench").delete()
    users = get_user_model().objects
    users.filter(username__in=["audit-dana", "audit-casey"]).delete()

    dana = users.create_user("audit-dana", password="x")
    provider = Provider.objects.create(
        slug="audit-bench", name="Dana Bench", kind="therapist", timezone="UTC", user=dana
    )
    service = Service.objects.create(
        provider=provider, slug="visit", name="Visit", duration_minutes=20, horizon_days=60
    )
    patients = Patient.objects.bulk_create(
        Patient(
            name=f"Pat Bench{n}",
            phone=f"+1917555{n:04d}",
            timezone="UTC",
            state="NY",
            sms_consent_source="bench-audit",  # phones are encrypted: found by this
        )
        for n in range(PATIENTS)
    )
    if any(p.pk is None for p in patients):
        patients = list(Patient.objects.filter(sms_consent_source="bench-audit").order_by("pk"))
    midnight = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    appointments = []
    for n, patient in enumerate(patients):
        # PER_DAY visits a day from today on, every 30 minutes from midnight.
        start = midnight + timedelta(days=n // PER_DAY, minutes=30 * (n % PER_DAY))
        appointment = Appointment(
            provider=provider,
            service=service,
            patient=patient,
            start=start,
            end=start + timedelta(minutes=20),
            blocked_start=start,
            blocked_end=start + timedelta(minutes=20),
            session_key=f"bench-{n}",
            video_room=f"room-{n}",
            manage_token_salt=new_salt(),
        )
        appointment.manage_token_hash = hash_token(
            derive_token("manage", appointment.id, appointment.manage_token_salt)
        )
        appointments.append(appointment)
    Appointment.objects.bulk_create(appointments)

    specialty, _ = Specialty.objects.get_or_create(
        slug="opioid-use-disorder", defaults={"name": "Opioid use disorder"}
    )
    organization, _ = Organization.objects.get_or_create(slug="bench", defaults={"name": "B"})
    casey = users.create_user("audit-casey", password="x")
    Coordinator.objects.create(user=casey, organization=organization)
    for n in range(REFERRALS):
        create_referral(
            created_by=casey,
            patient={
                "name": f"Ref Bench{n}",
                "phone": f"+1212556{n:04d}",
                "timezone": "UTC",
                "state": "NY",
            },
            referrer={"name": "Bench", "email": "bench@example.org"},
            reason="Bench",
            specialty=specialty.slug,
        )
    return {
        "provider": provider,
        "appointment": appointments[0],
        "dana": dana,
        "casey": casey,
    }


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def statements(call: Callable[[], Any]) -> int:
    from django.db import connection

    seen: list[int] = []
    with connection.execute_wrapper(lambda execute, *args: seen.append(1) or execute(*args)):
        call()
    return len(seen)


def signed_in_with_second_factor(client: Any, user: Any) -> None:
    """Sign in as production does for a staff login: password, then a verified TOTP device
    (REQUIRE_MFA is on without DEBUG), so the pages measured are the real ones."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.create(user=user, name="bench", confirmed=True)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()


def main() -> None:
    url = setup_django("sqlite:////tmp/bridgeway-bench-audit.sqlite3", fresh=True)
    from django.test import Client
    from rest_framework.test import APIClient

    from scheduling.audit import services as audit
    from scheduling.audit.models import AuditEvent
    from scheduling.booking import links
    from scheduling.calendar import feeds

    world = seed()
    appointment, provider = world["appointment"], world["provider"]
    anonymous, portal, board = Client(), Client(), Client()
    signed_in_with_second_factor(portal, world["dana"])
    signed_in_with_second_factor(board, world["casey"])
    api = APIClient()
    api.force_authenticate(world["dana"])
    feed_path = f"/calendar/{feeds.feed_token(provider=provider)}.ics"
    pages: list[tuple[str, Callable[[], Any]]] = [
        (
            "patient's link /m/<token>",
            lambda: anonymous.get("/m/" + links.manage_token(appointment)),
        ),
        (
            "API GET /api/appointments/<id>/",
            lambda: api.get(f"/api/appointments/{appointment.pk}/"),
        ),
        ("portal week /portal/", lambda: portal.get("/portal/")),
        ("referral board /referrals/board/", lambda: board.get("/referrals/board/")),
        ("provider feed (cached body)", lambda: anonymous.get(feed_path)),
    ]
    real_insert = audit._insert

    def skip(shared: dict[str, Any], rows: list[Any]) -> None:
        return None

    backend = "PostgreSQL" if url.startswith("postgres") else "SQLite"
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"access-log benchmark on {backend}, load average {load}")
    print(
        f"  work: {PATIENTS} patients with one visit each ({PER_DAY} a day from today), "
        f"{REFERRALS} open referrals; {RUNS} requests per page with and as many without"
    )
    print(
        f"  {'page':<34} {'rows':>5} {'p50 off':>9} {'p50 on':>9} {'cost':>8}   statements off/on"
    )
    verdicts = []
    for label, call in pages:
        for _ in range(5):  # warm caches, connections and the feed's rendering
            assert call().status_code == 200, label
        before = AuditEvent.objects.count()
        call()
        rows = AuditEvent.objects.count() - before
        timings: dict[bool, list[float]] = {True: [], False: []}
        for _ in range(RUNS):
            for on in (False, True):
                audit._insert = real_insert if on else skip  # type: ignore[assignment]
                started = time.perf_counter()
                call()
                timings[on].append(time.perf_counter() - started)
        audit._insert = skip  # type: ignore[assignment]
        off_count = statements(call)
        audit._insert = real_insert  # type: ignore[assignment]
        on_count = statements(call)
        off, on = median_ms(timings[False]), median_ms(timings[True])
        ok = on - off <= TARGET_MS and on_count - off_count <= 1
        verdicts.append(ok)
        print(
            f"  {label:<34} {rows:>5} {off:>7.2f}ms {on:>7.2f}ms {on - off:>+6.2f}ms"
            f"   {off_count} / {on_count}{'' if ok else '  MISSED'}"
        )
    print(f"target: <= +{TARGET_MS:.0f} ms p50 and one extra statement per request")
    print("all targets met" if all(verdicts) else "SOME TARGETS MISSED")


if __name__ == "__main__":
    main()
