"""Benchmark: due reminders through the real worker to a Twilio-speaking server.

    .venv/bin/python bench/notifications.py                 # 10,000 reminders, 100,000 appointments
    .venv/bin/python bench/notifications.py --count 2000 --appointments 20000   # quicker
    .venv/bin/python bench/notifications.py --live    # one task per text, as bookings queue them

Prints, for each broker (ORM always; Redis when REDIS_URL is set), the messages per second
the `qcluster` worker sends to the local server answering every request in --delay seconds,
and the time of the due-reminder query over the outbox of --appointments appointments, with
its query plan. Runs on a fresh SQLite file (or on a fresh PostgreSQL database when
DATABASE_URL names one). Targets: >= 50 messages/s per broker, due query <= 50 ms.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._data import scratch_database  # noqa: E402


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000, help="due reminders to send")
    parser.add_argument("--appointments", type=int, default=100_000)
    parser.add_argument("--delay", type=float, default=0.15, help="Twilio answer time, s")
    parser.add_argument("--workers", type=int, default=int(os.environ.get("Q_WORKERS", 2)))
    parser.add_argument("--bulk", type=int, default=int(os.environ.get("Q_BULK", 10)))
    parser.add_argument("--batch", type=int, default=50, help="rows per task")
    parser.add_argument("--concurrency", type=int, default=25, help="sends at once per task")
    parser.add_argument("--brokers", default="orm,redis")
    parser.add_argument(
        "--live",
        action="store_true",
        help="queue one task per due row, as bookings do on commit, instead of the sweep",
    )
    parser.add_argument("--timeout", type=float, default=900, help="per broker, seconds")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bw-bench-"))
    database_url = scratch_database(tmp, prefix="bw_bench")
    redis_url = os.environ.pop("REDIS_URL", "")
    cluster = f"bwbench{uuid.uuid4().hex[:6]}"
    os.environ.update(
        DEBUG="1",
        SECRET_KEY=os.environ.get("SECRET_KEY", "bench-secret-key"),
        DATABASE_URL=database_url,
        Q_CLUSTER_NAME=cluster,
        LOG_LEVEL="WARNING",
        Q_LOG_LEVEL="WARNING",
    )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "--skip-checks", "-v", "0"],
        cwd=ROOT,
        check=True,
    )
    import django

    django.setup()

    from tests.integration.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio

    print(f"database: {database_url.split('://')[0]}; Twilio answers in {args.delay * 1000:.0f} ms")
    now = datetime.now(UTC)
    seed(args.appointments, args.count, now)
    due_query(now)

    fake = FakeTwilio(delay=args.delay).start()
    env = dict(
        os.environ,
        TWILIO_ACCOUNT_SID=ACCOUNT_SID,
        TWILIO_AUTH_TOKEN=AUTH_TOKEN,
        TWILIO_API_BASE_URL=fake.url,
        TWILIO_FROM_NUMBER="+15005550006",
        Q_WORKERS=str(args.workers),
        Q_BULK=str(args.bulk),
        NOTIFICATIONS_BATCH_SIZE=str(args.batch),
        NOTIFICATIONS_SEND_CONCURRENCY=str(args.concurrency),
    )
    from django.conf import settings

    settings.NOTIFICATIONS_BATCH_SIZE = args.batch
    print(
        f"worker: Q_WORKERS={args.workers} Q_BULK={args.bulk} save_limit=-1, "
        f"{args.batch} rows per task, {args.concurrency} sends at once per task"
    )
    for broker in args.brokers.split(","):
        if broker == "redis" and not redis_url:
            print("redis: skipped (set REDIS_URL)")
            continue
        throughput(broker, env, redis_url, args, fake)
    fake.stop()
    from django.db import connections

    connections.close_all()
    shutil.rmtree(tmp, ignore_errors=True)
    if database_url.startswith("postgres"):
        import psycopg

        base, _, name = database_url.rpartition("/")
        with psycopg.connect(
            base.replace("postgres://", "postgresql://") + "/postgres", autocommit=True
        ) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # type: ignore[arg-type]


def seed(appointments: int, due: int, now: datetime) -> None:
    """`appointments` future visits with two pending reminders and a sent confirmation each;
    `due` more reminders whose time has come."""
    from django.db import transaction

    from notifications.models import Notification
    from scheduling.models import Appointment, Patient, Provider, Service

    started = time.perf_counter()
    provider = Provider.objects.create(slug="bench", name="Dana Whitfield", timezone="UTC")
    service = Service.objects.create(
        provider=provider, slug="visit", name="Visit", duration_minutes=30
    )
    patients = Patient.objects.bulk_create(
        Patient(
            name=f"Pat {i}", phone=f"+1212{i:07d}", timezone="UTC", state="NY", sms_consent=True
        )
        for i in range(1000)
    )
    batch = 5000
    for offset in range(0, appointments, batch):
        with transaction.atomic():
            visits = []
            notes = []
            for i in range(offset, min(offset + batch, appointments)):
                start = now + timedelta(days=2, minutes=30 * i)
                appointment_id = uuid.uuid4()
                visits.append(
                    Appointment(
                        id=appointment_id,
                        provider=provider,
                        service=service,
                        patient=patients[i % len(patients)],
                        start=start,
                        end=start + timedelta(minutes=30),
                        blocked_start=start,
                        blocked_end=start + timedelta(minutes=30),
                        session_key=str(appointment_id),
                        video_room=uuid.uuid4().hex,
                        manage_token_salt="x",
                        manage_token_hash=uuid.uuid4().hex,
                    )
                )
                phone = patients[i % len(patients)].phone
                ref = f"appointment:{appointment_id}"
                notes.append(
                    Notification(
                        channel="sms",
                        recipient=phone,
                        template="booking_confirmed",
                        body="Bridgeway: confirmed",
                        dedupe_key=f"booked:{appointment_id}",
                        subject_ref=ref,
                        status="sent",
                        send_after=now - timedelta(days=1),
                    )
                )
                for hours in (24, 2):
                    notes.append(
                        Notification(
                            channel="sms",
                            recipient=phone,
                            template="reminder",
                            body=f"Bridgeway reminder {i} {hours}h",
                            dedupe_key=f"reminder-{hours}h:sms:{appointment_id}:{start.isoformat()}",
                            subject_ref=ref,
                            send_after=start - timedelta(hours=hours),
                        )
                    )
            Appointment.objects.bulk_create(visits)
            Notification.objects.bulk_create(notes)
    Notification.objects.bulk_create(
        (
            Notification(
                channel="sms",
                recipient=f"+1312{i:07d}",
                template="reminder",
                body=f"Bridgeway reminder: due {i}",
                dedupe_key=f"due:{i}",
                send_after=now - timedelta(minutes=1),
            )
            for i in range(due)
        ),
        batch_size=5000,
    )
    total = Notification.objects.count()
    print(
        f"seeded {appointments:,} appointments, {total:,} outbox rows ({due:,} due) "
        f"in {time.perf_counter() - started:.1f} s"
    )


def due_query(now: datetime) -> None:
    from django.db import connection

    from notifications.delivery import due_notifications
    from notifications.models import Notification

    def timed(qs: object) -> float:
        runs = []
        for _ in range(15):
            started = time.perf_counter()
            list(qs.all())  # type: ignore[attr-defined]
            runs.append((time.perf_counter() - started) * 1000)
        return statistics.median(runs)

    def plan(qs: object) -> str:
        sql, params = qs.query.sql_with_params()  # type: ignore[attr-defined]
        with connection.cursor() as cursor:
            prefix = "EXPLAIN" if connection.vendor == "postgresql" else "EXPLAIN QUERY PLAN"
            cursor.execute(f"{prefix} {sql}", params)
            return " | ".join(" ".join(str(c) for c in row) for row in cursor.fetchall())

    with_due = due_notifications(now).values_list("pk", flat=True)[:20000]
    due_count = with_due.count()
    print(f"due query with {due_count:,} due rows: {timed(with_due):.1f} ms (median of 15)")
    # The steady state: the sweep each minute over the whole outbox finds a handful due.
    later = due_notifications(now - timedelta(hours=1)).values_list("pk", flat=True)[:20000]
    print(f"due query with nothing due:   {timed(later):.2f} ms (median of 15)")
    print(f"plan: {plan(with_due)}")
    assert Notification.objects.exists()


def throughput(
    broker: str, env: dict[str, str], redis_url: str, args: argparse.Namespace, fake
) -> None:
    from django_q.conf import Conf

    from notifications.delivery import dispatch, sweep
    from notifications.models import Notification

    due = Notification.objects.filter(dedupe_key__startswith="due:")
    due.update(
        status="pending", queued_at=None, claimed_at=None, attempts=0, provider_message_id=""
    )
    fake.messages.clear()
    fake.requests.clear()
    worker_env = dict(env)
    if broker == "redis":
        worker_env["REDIS_URL"] = redis_url
        Conf.ORM, Conf.REDIS = None, redis_url
    else:
        Conf.ORM = "default"
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "qcluster", "--skip-checks"],
        cwd=ROOT,
        env=worker_env,
        start_new_session=True,
    )
    try:
        time.sleep(3)  # let the cluster boot so its start-up is not counted
        started = time.perf_counter()
        if args.live:  # what bookings do: each commit hands its own due rows to a task
            ids = list(due.values_list("pk", flat=True))
            due.update(queued_at=datetime.now(UTC))
            for pk in ids:
                dispatch([pk])
            queued = len(ids)
        else:
            queued = sweep(now=datetime.now(UTC))
        enqueue_s = time.perf_counter() - started
        sent = 0
        deadline = started + args.timeout
        while time.perf_counter() < deadline:
            sent = due.filter(status="sent").count()
            if sent >= queued:
                break
            time.sleep(0.25)
        elapsed = time.perf_counter() - started
        duplicates = len(fake.messages) - len({m["body"] for m in fake.messages})
        print(
            f"{broker}: {sent:,} of {queued:,} reminders sent in {elapsed:.1f} s = "
            f"{sent / elapsed:.1f} messages/s ({'one task each' if args.live else 'the sweep'} "
            f"queued them in {enqueue_s:.2f} s; "
            f"server saw {len(fake.requests):,} requests, {duplicates} duplicates)"
        )
    finally:
        worker.send_signal(signal.SIGTERM)  # the main process stops its children in order
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(worker.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        if broker == "redis":
            import redis

            redis.from_url(redis_url).delete(Conf.CLUSTER_NAME)


if __name__ == "__main__":
    main()
