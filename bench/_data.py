"""A reusable benchmark directory: N providers with two services each and M appointments.

    from bench._data import setup_django, build
    setup_django()            # DATABASE_URL or a fresh SQLite file under /tmp, migrated
    data = build(providers=1000, appointments=10_000)

Deterministic (seeded) and idempotent-ish: rows are keyed by the `bench-` slug prefix; a
second call with the same sizes reuses them, other sizes rebuild the bench rows only.
Nothing here runs at import time, so `python bench/_data.py` is harmless.
"""

from __future__ import annotations

import os
import random
import secrets
import sys
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SQLITE = "/tmp/bridgeway-bench.sqlite3"
PREFIX = "bench-"
ZONES = [
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Phoenix",
    "America/Los_Angeles",
]
STATES_BY_ZONE = {
    "America/New_York": ["NY", "NJ", "PA", "FL", "GA", "MA"],
    "America/Chicago": ["IL", "TX", "MN", "WI", "MO"],
    "America/Denver": ["CO", "UT", "NM"],
    "America/Phoenix": ["AZ", "NV"],
    "America/Los_Angeles": ["CA", "OR", "WA"],
}
SPECIALTIES = [
    ("opioid-use-disorder", "Opioid use disorder"),
    ("benzodiazepines", "Benzodiazepine dependence"),
    ("stimulants", "Prescription stimulants"),
    ("family-therapy", "Family therapy"),
    ("trauma", "Trauma-informed care"),
    ("peer-support", "Peer support"),
]
INSURANCE = [
    ("medicaid", "Medicaid"),
    ("medicare", "Medicare"),
    ("aetna", "Aetna"),
    ("bcbs", "Blue Cross Blue Shield"),
    ("self-pay", "Self-pay"),
]
LANGUAGES = [("en", "English"), ("es", "Spanish"), ("zh", "Chinese"), ("vi", "Vietnamese")]
KINDS = ["therapist", "addiction_medicine", "counselor", "peer_coach", "group_facilitator"]
# Local starts that never overlap with a 60-minute visit plus a 15-minute buffer.
APPOINTMENT_HOURS = [9, 11, 13, 15]


def setup_django(default_url: str = f"sqlite:///{DEFAULT_SQLITE}", *, fresh: bool = False) -> str:
    """Configure Django for a benchmark database and migrate it; return its URL.

    Never the development db.sqlite3: without DATABASE_URL, a file under /tmp.
    """
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    url = os.environ.setdefault("DATABASE_URL", default_url)
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-not-for-production-use")
    os.environ.setdefault("DEBUG", "0")
    # Production-shaped: details encrypted with bench-only keys (a Fernet key and a hash key).
    os.environ.setdefault("FIELD_ENCRYPTION_KEYS", "YmVuY2gtb25seS1maWVsZC1rZXktbm90LXNlY3JldCE=")
    os.environ.setdefault("FIELD_HASH_KEY", "bench-only-field-hash-key")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    # Persistent connections, as a production web process runs (the default 0 reconnects
    # on every request, which on PostgreSQL costs more than the request itself).
    os.environ.setdefault("DB_CONN_MAX_AGE", "600")
    path = Path(url.removeprefix("sqlite:///"))
    # Only a scratch file is ever deleted; a DATABASE_URL naming any other file is kept.
    if fresh and url.startswith("sqlite:///") and path.parent == Path("/tmp"):
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    if url.startswith(("postgres://", "postgresql://")):
        _create_postgres_database(url)

    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)
    return url


def _create_postgres_database(url: str) -> None:
    import dj_database_url
    import psycopg
    from psycopg import sql

    cfg = dj_database_url.parse(url)
    with psycopg.connect(
        dbname="postgres",
        user=cfg.get("USER") or "postgres",
        password=cfg.get("PASSWORD") or None,
        host=cfg.get("HOST") or "127.0.0.1",
        port=cfg.get("PORT") or 5432,
        autocommit=True,
    ) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [cfg["NAME"]]
        ).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(cfg["NAME"])))


def scratch_database(tmp: Path, *, prefix: str = "bw_bench") -> str:
    """A new empty database for one run: a uniquely named PostgreSQL database beside
    DATABASE_URL's when that is PostgreSQL (drop it with drop_database), else SQLite in tmp."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        return f"sqlite:///{tmp / 'bench.sqlite3'}"
    import psycopg

    base, _, _ = url.rpartition("/")
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(_admin_url(base), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')  # type: ignore[arg-type]
    return f"{base}/{name}"


def drop_database(database_url: str) -> None:
    """Drop a database scratch_database made (nothing to do for SQLite)."""
    if not database_url.startswith("postgres"):
        return
    import psycopg

    base, _, name = database_url.rpartition("/")
    with psycopg.connect(_admin_url(base), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # type: ignore[arg-type]


def _admin_url(base: str) -> str:
    return base.replace("postgres://", "postgresql://") + "/postgres"


@dataclass
class BenchData:
    providers: int
    services: int
    appointments: int
    first_day: date
    sample_slug: str


def _local(day: date, hour: int, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=zone).astimezone(UTC)


def build(*, providers: int = 1000, appointments: int = 10_000, seed: int = 7) -> BenchData:
    """Make sure the bench directory has exactly these sizes; build it if not."""
    from django.db import transaction

    from scheduling import models as m

    today = datetime.now(UTC).date()
    first_day = today + timedelta(days=3)  # past the 24 h notice, so booked time matters
    bench = m.Provider.objects.filter(slug__startswith=PREFIX)
    have_appts = m.Appointment.objects.filter(
        provider__slug__startswith=PREFIX, start__gte=datetime.now(UTC)
    ).count()
    if bench.count() == providers and have_appts == appointments:
        return BenchData(providers, providers * 2, appointments, first_day, f"{PREFIX}{0:05d}")

    rng = random.Random(seed)
    with transaction.atomic():
        _clear()
        specialties = [
            m.Specialty.objects.get_or_create(slug=s, defaults={"name": n})[0]
            for s, n in SPECIALTIES
        ]
        plans = [
            m.Insurance.objects.get_or_create(slug=s, defaults={"name": n})[0] for s, n in INSURANCE
        ]
        languages = [
            m.Language.objects.get_or_create(code=c, defaults={"name": n})[0] for c, n in LANGUAGES
        ]
        rows = [
            m.Provider(
                slug=f"{PREFIX}{i:05d}",
                name=f"Bench Provider{i:05d} Clinician",
                credentials=rng.choice(["LCSW", "MD", "LPC, CADC", "CPRS", "PsyD"]),
                kind=KINDS[i % len(KINDS)],
                timezone=ZONES[i % len(ZONES)],
                bio="Benchmark provider. Telehealth visits by video or phone.",
                accepting_new_patients=i % 7 != 0,
                offers_video=True,
                offers_phone=i % 2 == 0,
            )
            for i in range(providers)
        ]
        made = m.Provider.objects.bulk_create(rows, batch_size=500)
        if not all(p.pk for p in made):  # backends without RETURNING
            made = list(bench.order_by("slug"))
        _bulk_related(rng, made, specialties, plans, languages)
        services = _bulk_services(made)
        count = _bulk_appointments(rng, made, services, first_day, appointments)
    return BenchData(providers, len(services), count, first_day, made[0].slug)


def _clear() -> None:
    from scheduling import models as m

    bench = m.Provider.objects.filter(slug__startswith=PREFIX)
    m.AppointmentEvent.objects.filter(appointment__provider__in=bench).delete()
    m.Appointment.objects.filter(provider__in=bench).delete()
    m.Patient.objects.filter(sms_consent_source="bench-data").delete()
    bench.delete()


def _bulk_related(rng: random.Random, made: list[Any], specialties, plans, languages) -> None:
    from scheduling import models as m

    licenses, spec_rows, plan_rows, lang_rows, hours = [], [], [], [], []
    for i, p in enumerate(made):
        for state in rng.sample(STATES_BY_ZONE[p.timezone], 2):
            licenses.append(m.ProviderLicense(provider_id=p.pk, state=state))
        for s in rng.sample(specialties, 2):
            spec_rows.append(m.Provider.specialties.through(provider_id=p.pk, specialty_id=s.pk))
        for s in rng.sample(plans, 2):
            plan_rows.append(m.Provider.insurance.through(provider_id=p.pk, insurance_id=s.pk))
        lang_rows.append(
            m.Provider.languages.through(provider_id=p.pk, language_id=languages[0].pk)
        )
        if i % 3 == 0:
            lang_rows.append(
                m.Provider.languages.through(provider_id=p.pk, language_id=languages[1].pk)
            )
        for weekday in range(5):
            hours.append(
                m.WeeklyHours(provider_id=p.pk, weekday=weekday, start=time(9), end=time(12))
            )
            hours.append(
                m.WeeklyHours(provider_id=p.pk, weekday=weekday, start=time(13), end=time(17))
            )
        if i % 4 == 0:
            hours.append(m.WeeklyHours(provider_id=p.pk, weekday=5, start=time(10), end=time(14)))
    m.ProviderLicense.objects.bulk_create(licenses, batch_size=1000)
    m.Provider.specialties.through.objects.bulk_create(spec_rows, batch_size=1000)
    m.Provider.insurance.through.objects.bulk_create(plan_rows, batch_size=1000)
    m.Provider.languages.through.objects.bulk_create(lang_rows, batch_size=1000)
    m.WeeklyHours.objects.bulk_create(hours, batch_size=1000)


def _bulk_services(made: list[Any]) -> list[Any]:
    from scheduling import models as m

    rows = []
    for p in made:
        rows.append(
            m.Service(
                provider_id=p.pk,
                slug="intake",
                name="Intake assessment",
                duration_minutes=60,
                buffer_after_minutes=15,
                min_notice_hours=24,
                horizon_days=90,
                slot_step_minutes=30,
                position=0,
            )
        )
        rows.append(
            m.Service(
                provider_id=p.pk,
                slug="follow-up",
                name="Follow-up visit",
                duration_minutes=30,
                buffer_after_minutes=0,
                min_notice_hours=4,
                horizon_days=60,
                slot_step_minutes=15,
                position=1,
            )
        )
    services = m.Service.objects.bulk_create(rows, batch_size=1000)
    if not all(s.pk for s in services):
        services = list(
            m.Service.objects.filter(provider__slug__startswith=PREFIX).order_by(
                "provider_id", "position"
            )
        )
    return services


def _bulk_appointments(
    rng: random.Random, made: list[Any], services: list[Any], first_day: date, total: int
) -> int:
    """`total` confirmed intakes spread over the providers' next weekdays, never overlapping."""
    from scheduling import models as m

    patients = m.Patient.objects.bulk_create(
        [
            m.Patient(
                name=f"Bench Patient{i:05d}",
                phone=f"+1555{i:07d}",
                timezone="America/New_York",
                state="NY",
                sms_consent=True,
                sms_consent_source="bench-data",  # phones are encrypted: found by this
            )
            for i in range(max(total // 5, 1))
        ],
        batch_size=1000,
    )
    if not all(p.pk for p in patients):
        patients = list(m.Patient.objects.filter(sms_consent_source="bench-data"))
    intake = {s.provider_id: s for s in services if s.position == 0}
    weekdays = [first_day + timedelta(days=d) for d in range(60)]
    weekdays = [d for d in weekdays if d.weekday() < 5]
    choices = [(d, h) for d in weekdays[:20] for h in APPOINTMENT_HOURS]
    per_provider, extra = divmod(total, len(made))
    rows = []
    for index, p in enumerate(made):
        zone = ZoneInfo(p.timezone)
        service = intake[p.pk]
        for day, hour in rng.sample(choices, per_provider + (1 if index < extra else 0)):
            start = _local(day, hour, zone)
            end = start + timedelta(minutes=60)
            rows.append(
                m.Appointment(
                    id=uuid.uuid4(),
                    provider_id=p.pk,
                    service_id=service.pk,
                    patient_id=patients[len(rows) % len(patients)].pk,
                    start=start,
                    end=end,
                    blocked_start=start,
                    blocked_end=end + timedelta(minutes=15),
                    session_key=str(uuid.uuid4()),
                    status="confirmed",
                    video_room=secrets.token_urlsafe(16),
                    manage_token_salt=secrets.token_hex(8),
                    manage_token_hash=secrets.token_hex(32),
                )
            )
    m.Appointment.objects.bulk_create(rows, batch_size=1000)
    return len(rows)


if __name__ == "__main__":
    print(__doc__)
