"""The notification pipeline end to end: a real `qcluster` process, the Twilio-speaking
server driven through the real SDK, and Bridgeway's webhooks served over HTTP.

The worker and this test share one database (a SQLite file; a PostgreSQL database when the
suite runs on PostgreSQL), which the test reaches by pointing its own connection at it.
Time travel: the worker's clock cannot be frozen from here, so the test calls the sweep
service in-process with an injected `now` (sweep(now=...) decides what is due) while the
worker does the sending; a claim never looks at the clock, only at the row's status.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
import requests
from django.conf import settings as django_settings
from django.db import connections
from twilio.request_validator import RequestValidator

from notifications.optouts import is_opted_out
from tests.integration.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, Answer, FakeTwilio

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
PHONE = "+12125550142"
FROM = "+15005550006"
STEP = 45.0  # seconds any single expected change may take before a test fails


def wait_for(check: Callable[[], Any], timeout: float = STEP, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.1)


# ---------------------------------------------------------------- the shared database


def _is_postgres() -> bool:
    return django_settings.DATABASES["default"]["ENGINE"].endswith("postgresql")


def _base_env(database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(
        DEBUG="1",
        SECRET_KEY=django_settings.SECRET_KEY,
        DATABASE_URL=database_url,
        LOG_LEVEL="WARNING",
        Q_LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    return env


def _pg_url(name: str) -> str:
    db = django_settings.DATABASES["default"]
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{name}"


def _pg_admin(sql: str) -> None:
    import psycopg

    db = django_settings.DATABASES["default"]
    with psycopg.connect(
        _pg_url("postgres").replace("postgres://", "postgresql://"), autocommit=True
    ) as conn:
        conn.execute(sql)  # type: ignore[arg-type]
    del db


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated database to copy for each test: a file, or a PostgreSQL template."""
    if _is_postgres():
        name = f"bw_worker_tmpl_{os.getpid()}"
        _pg_admin(f'DROP DATABASE IF EXISTS "{name}"')
        _pg_admin(f'CREATE DATABASE "{name}"')
        url = _pg_url(name)
    else:
        name = str(tmp_path_factory.mktemp("worker-db") / "template.sqlite3")
        url = f"sqlite:///{name}"
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "--skip-checks", "-v", "0"],
        cwd=ROOT,
        env=_base_env(url),
        check=True,
        timeout=300,
    )
    yield name
    if _is_postgres():
        _pg_admin(f'DROP DATABASE IF EXISTS "{name}"')


# What a connection carries besides its settings; connect() resets all of it.
_CONNECTION_STATE = (
    "connection",
    "autocommit",
    "in_atomic_block",
    "savepoint_state",
    "savepoint_ids",
    "atomic_blocks",
    "commit_on_exit",
    "needs_rollback",
    "rollback_exc",
    "close_at",
    "closed_in_transaction",
    "errors_occurred",
    "health_check_enabled",
    "health_check_done",
    "run_on_commit",
    "run_commit_hooks_on_set_autocommit_on",
)


def _database_in_use(conn: Any) -> str:
    with conn.cursor() as cursor:
        if _is_postgres():
            cursor.execute("SELECT current_database()")
            return str(cursor.fetchone()[0])
        cursor.execute("PRAGMA database_list")
        return os.path.realpath(next(row[2] for row in cursor.fetchall() if row[1] == "main"))


@contextmanager
def _pointed_at(conn: Any, name: str) -> Iterator[None]:
    """Point this process's connection at database `name`, then put everything back.

    Closing the connection and renaming the database is not enough: Django ignores close()
    on an in-memory SQLite test database (closing would destroy it), so after any test that
    used the database this process kept writing into the test database while the worker
    read the copy. So the open connection is set aside untouched (never closed: the test
    database lives in it), a new one is opened on `name`, and afterwards that one is closed
    and the old one, its settings and its transaction state are restored as they were.
    """
    assert not conn.in_atomic_block, "the worker tests cannot run inside a test transaction"
    saved_settings = dict(conn.settings_dict)  # the very dict of settings.DATABASES: edit in place
    saved_state = {attr: getattr(conn, attr) for attr in _CONNECTION_STATE}
    conn.connection = None  # set aside, not closed: the next query connects to `name`
    conn.settings_dict["NAME"] = name
    try:
        wanted = name if _is_postgres() else os.path.realpath(name)
        in_use = _database_in_use(conn)
        assert in_use == wanted, f"this process uses {in_use!r}, the worker {wanted!r}"
        yield
    finally:
        try:
            conn.close()  # the shared database's connection (a file: close() really closes)
        finally:
            conn.settings_dict.clear()
            conn.settings_dict.update(saved_settings)
            for attr, value in saved_state.items():
                setattr(conn, attr, value)


@pytest.fixture
def shared_db(
    migrated_template: str, tmp_path: Path, django_db_blocker: Any
) -> Iterator[tuple[str, str]]:
    """Point this process's connection at a fresh copy; yield (name, DATABASE_URL)."""
    if _is_postgres():
        name = f"bw_worker_{uuid.uuid4().hex[:10]}"
        _pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{migrated_template}"')
        url = _pg_url(name)
    else:
        name = str(tmp_path / "shared.sqlite3")
        shutil.copy(migrated_template, name)
        url = f"sqlite:///{name}"
    with django_db_blocker.unblock(), _pointed_at(connections["default"], name):
        yield name, url
    if _is_postgres():
        _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# ---------------------------------------------------------------- web, worker, Twilio


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return


class _ThreadedWSGIServer(WSGIServer):
    daemon_threads = True


class Stack:
    """The running pieces of one test, and the knobs the tests turn."""

    def __init__(self, *, env: dict[str, str], fake: FakeTwilio, web_url: str, log: Path):
        self.env, self.fake, self.web_url, self.log = env, fake, web_url, log
        self.worker: subprocess.Popen[bytes] | None = None

    def start_worker(self) -> None:
        """Start `qcluster` and wait until it says it is running (boot is slow on a busy box)."""
        booted = self._boots()
        with self.log.open("ab") as out:
            self.worker = subprocess.Popen(
                [sys.executable, "manage.py", "qcluster", "--skip-checks"],
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: killed as a whole
            )
        wait_for(lambda: self._boots() > booted, timeout=90, what="the worker to start")

    def _boots(self) -> int:
        return self.log.read_bytes().count(b"] running.") if self.log.exists() else 0

    def kill_worker(self) -> None:
        """SIGKILL the cluster and every worker process: no chance to clean up."""
        assert self.worker is not None
        os.killpg(self.worker.pid, signal.SIGKILL)
        self.worker.wait(timeout=STEP)
        self.worker = None

    def stop_worker(self) -> None:
        if self.worker is None:
            return
        # SIGTERM to the cluster's main process only: it stops its children in order (a
        # group-wide SIGTERM kills them under it and leaves it waiting forever).
        try:
            self.worker.send_signal(signal.SIGTERM)
            self.worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(self.worker.pid, signal.SIGKILL)  # and any straggler
        except ProcessLookupError:
            pass
        self.worker.wait(timeout=STEP)
        self.worker = None

    def texts_to(self, number: str = PHONE) -> list[dict[str, Any]]:
        return self.fake.sent_to(number)

    def signed_post(self, path: str, params: dict[str, str], *, sign: bool = True) -> Any:
        url = self.web_url + path
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if sign:
            headers["X-Twilio-Signature"] = RequestValidator(AUTH_TOKEN).compute_signature(
                url, params
            )
        return requests.post(url, data=urlencode(params), headers=headers, timeout=STEP)

    def text_in(self, body: str, *, sid: str | None = None, sign: bool = True) -> Any:
        params = {
            "MessageSid": sid or f"SM{uuid.uuid4().hex}",
            "AccountSid": ACCOUNT_SID,
            "From": PHONE,
            "To": FROM,
            "Body": body,
        }
        return self.signed_post("/webhooks/twilio/sms/", params, sign=sign)


@pytest.fixture(params=["orm"])
def stack(
    request: pytest.FixtureRequest,
    shared_db: tuple[str, str],
    tmp_path: Path,
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Stack]:
    from django.core.wsgi import get_wsgi_application
    from django_q.conf import Conf

    broker = request.param
    fake = FakeTwilio(callbacks=True).start()
    web = make_server(
        "127.0.0.1",
        0,
        get_wsgi_application(),
        server_class=_ThreadedWSGIServer,
        handler_class=_QuietHandler,
    )
    threading.Thread(target=web.serve_forever, daemon=True).start()
    web_url = f"http://127.0.0.1:{web.server_address[1]}"
    cluster = f"bwtest{uuid.uuid4().hex[:8]}"

    env = _base_env(shared_db[1])
    env.update(
        LOG_LEVEL="INFO",  # the cluster's "running." line tells the test it is ready
        Q_LOG_LEVEL="INFO",
        PUBLIC_BASE_URL=web_url,
        TWILIO_ACCOUNT_SID=ACCOUNT_SID,
        TWILIO_AUTH_TOKEN=AUTH_TOKEN,
        TWILIO_API_BASE_URL=fake.url,
        TWILIO_FROM_NUMBER=FROM,
        TWILIO_HTTP_TIMEOUT_SECONDS="10",
        Q_CLUSTER_NAME=cluster,
        Q_WORKERS="2",
        NOTIFICATION_RETRY_BASE_SECONDS="1",
        NOTIFICATIONS_SEND_CONCURRENCY="4",
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
    )
    # This process dispatches to the same queue the worker reads, signed the same way.
    monkeypatch.setattr(Conf, "PREFIX", cluster)
    monkeypatch.setattr(Conf, "CLUSTER_NAME", cluster)
    if broker == "redis":
        env["REDIS_URL"] = os.environ["REDIS_URL"]
        monkeypatch.setattr(Conf, "ORM", None)
        monkeypatch.setattr(Conf, "REDIS", os.environ["REDIS_URL"])
    else:
        monkeypatch.setattr(Conf, "ORM", "default")
    settings.PUBLIC_BASE_URL = web_url
    settings.TWILIO_ACCOUNT_SID = ACCOUNT_SID
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.TWILIO_API_BASE_URL = fake.url
    settings.TWILIO_FROM_NUMBER = FROM
    settings.SMS_BACKEND = "notifications.backends.twilio.TwilioBackend"
    settings.NOTIFICATIONS_DISPATCH = "queue"
    settings.NOTIFICATION_RETRY_BASE_SECONDS = 1
    settings.REMINDER_OFFSETS_HOURS = [24, 2]

    running = Stack(env=env, fake=fake, web_url=web_url, log=tmp_path / "worker.log")
    running.start_worker()
    try:
        yield running
    finally:
        running.stop_worker()
        fake.stop()  # waits for callbacks in flight, while the web server still answers
        web.shutdown()
        web.server_close()
        if broker == "redis":
            import redis

            redis.from_url(os.environ["REDIS_URL"]).delete(cluster)
        # Captured, so shown only when the test fails.
        sys.stderr.write(running.log.read_text(errors="replace")[-4000:])
    fake.check_callbacks()  # a callback the app refused or never answered fails the test


redis_too = pytest.mark.parametrize(
    "stack", ["orm", pytest.param("redis", marks=pytest.mark.redis)], indirect=True
)


# ---------------------------------------------------------------- booking helpers


def book_visit(*, hours_ahead: float = 72, sms_consent: bool = True) -> Any:
    """Book through the real service for a start `hours_ahead` from now (whole minutes)."""
    from scheduling.booking import services
    from scheduling.booking.patients import PatientDetails
    from tests.factories import ProviderFactory, ServiceFactory

    start = (datetime.now(UTC) + timedelta(hours=hours_ahead)).replace(second=0, microsecond=0)
    start -= timedelta(minutes=start.minute % 30)
    provider = ProviderFactory(
        name="Dana Whitfield",
        timezone="UTC",
        states=["NY"],
        hours=[(day, "00:00", "23:59") for day in range(7)],
    )
    service = ServiceFactory(
        provider=provider,
        duration_minutes=30,
        buffer_after_minutes=0,
        min_notice_hours=0,
        slot_step_minutes=30,
    )
    if start.hour == 23 and start.minute == 30:
        start -= timedelta(minutes=30)
    return services.book_appointment(
        possession=True,
        service=service,
        start=start,
        patient=PatientDetails(
            name="Alex Rivera",
            phone=PHONE,
            timezone="America/Chicago",
            state="NY",
            email="alex@example.net",
        ),
        sms_consent=sms_consent,
    )


def rows(appointment: Any, **filters: Any) -> Any:
    from notifications.models import Notification

    return Notification.objects.filter(subject_ref=f"appointment:{appointment.id}", **filters)


def row_status(appointment: Any, template: str) -> str:
    found = rows(appointment, channel="sms", template=template).first()
    return found.status if found else ""


def settled(appointment: Any) -> bool:
    """The appointment has messages, and none that is due is still waiting or in flight.

    No rows at all is not settled: it means this process and the worker are not looking at
    the same database (or nothing was enqueued), which is exactly what a test must catch.
    """
    from django.utils import timezone

    return rows(appointment).exists() and not rows(
        appointment, status__in=["pending", "sending"], send_after__lte=timezone.now()
    )


# ---------------------------------------------------------------- the tests


@redis_too
def test_a_booking_produces_exactly_the_expected_messages(stack: Stack) -> None:
    appointment = book_visit()

    wait_for(lambda: settled(appointment), what="the confirmation to be sent")
    wait_for(
        lambda: row_status(appointment, "booking_confirmed") == "delivered",
        what="the delivery callback",
    )
    time.sleep(1.0)  # anything extra would have arrived by now

    texts = stack.texts_to()
    assert len(texts) == 1
    assert texts[0]["body"].startswith("Bridgeway: Your appointment with Dana W. is confirmed")
    assert texts[0]["status_callback"].endswith(
        f"/webhooks/twilio/status/?n={rows(appointment, channel='sms').get(template='booking_confirmed').pk}"
    )
    sent = sorted(
        rows(appointment, status__in=["sent", "delivered"]).values_list("template", "channel")
    )
    assert sent == [
        ("booking_confirmed", "email"),
        ("booking_confirmed", "sms"),
        ("provider_booked", "email"),
    ]
    pending = rows(appointment, status="pending").values_list("template", flat=True)
    assert list(pending) == ["reminder", "reminder"]


@redis_too
def test_a_server_error_then_success_is_retried_once(stack: Stack) -> None:
    from notifications.delivery import sweep

    stack.fake.fail_next(Answer(500))
    appointment = book_visit()
    confirmation = rows(appointment, channel="sms").get(template="booking_confirmed")

    wait_for(
        lambda: rows(appointment, pk=confirmation.pk, status="pending", attempts=1).exists(),
        what="the first attempt to fail",
    )
    sweep(now=datetime.now(UTC) + timedelta(seconds=5))  # past the 0.5-1 s backoff
    wait_for(lambda: row_status(appointment, "booking_confirmed") in ("sent", "delivered"))

    assert [r["status"] for r in stack.fake.requests] == [500, 201]
    assert len(stack.texts_to()) == 1
    confirmation.refresh_from_db()
    assert confirmation.attempts == 2


def test_an_opted_out_recipient_error_suppresses_later_texts(stack: Stack) -> None:
    from common.events import Actor
    from scheduling.booking import services

    stack.fake.fail_next(Answer(400, 21610))
    appointment = book_visit()

    wait_for(lambda: row_status(appointment, "booking_confirmed") == "undeliverable")
    assert is_opted_out(PHONE)

    services.reschedule_appointment(  # the next day: an hour later can pass the 23:59 close
        appointment=appointment, start=appointment.start + timedelta(days=1), actor=Actor.PATIENT
    )

    assert row_status(appointment, "rescheduled") == "suppressed"
    wait_for(lambda: settled(appointment))
    assert len(stack.fake.requests) == 1
    assert stack.texts_to() == []


@redis_too
def test_killing_the_worker_mid_send_yields_one_message_not_two(stack: Stack) -> None:
    from notifications.delivery import sweep

    stack.fake.hold()
    appointment = book_visit()
    assert stack.fake.held.wait(STEP), "the worker never called Twilio"

    stack.kill_worker()  # Twilio has the message; the worker never hears back
    # Checked before the release: once released, Twilio's status callback may settle the row.
    assert row_status(appointment, "booking_confirmed") == "sending"
    stack.fake.release()

    stack.start_worker()
    lease = django_settings.NOTIFICATION_SENDING_LEASE_SECONDS
    sweep(now=datetime.now(UTC) + timedelta(seconds=lease + 1))  # the claim has expired
    wait_for(lambda: row_status(appointment, "booking_confirmed") in ("sent", "delivered"))

    texts = stack.texts_to()
    assert len(texts) == 1
    assert len(stack.fake.requests) == 1
    confirmation = rows(appointment, channel="sms").get(template="booking_confirmed")
    assert confirmation.provider_message_id == texts[0]["sid"]


def test_reminders_fire_once_at_their_times(stack: Stack) -> None:
    from notifications.delivery import sweep

    appointment = book_visit(hours_ahead=30)
    wait_for(lambda: settled(appointment))
    start = appointment.start

    def reminders_sent() -> list[str]:
        return [t["body"] for t in stack.texts_to() if "reminder" in t["body"]]

    sweep(now=start - timedelta(hours=24, minutes=1))
    time.sleep(1.0)
    assert reminders_sent() == []

    for late in (1, 5, 90):  # a sweep each minute, and one long after
        sweep(now=start - timedelta(hours=24) + timedelta(seconds=late))
    wait_for(lambda: len(reminders_sent()) == 1, what="the 24-hour reminder")

    sweep(now=start - timedelta(hours=2, minutes=1))
    time.sleep(1.0)
    assert len(reminders_sent()) == 1

    sweep(now=start - timedelta(hours=2) + timedelta(seconds=1))
    sweep(now=start - timedelta(hours=2) + timedelta(seconds=61))
    wait_for(lambda: len(reminders_sent()) == 2, what="the 2-hour reminder")
    time.sleep(1.0)

    bodies = reminders_sent()
    assert len(bodies) == 2
    assert "in 24 hours" in bodies[0] and "in 2 hours" in bodies[1]
    assert len(stack.texts_to()) == 3  # the confirmation and two reminders


def test_webhooks_refuse_unsigned_requests_and_process_a_replay_once(stack: Stack) -> None:
    from notifications.models import InboundMessage
    from scheduling.models import AppointmentStatus

    appointment = book_visit()

    assert stack.text_in("X", sign=False).status_code == 403
    first = stack.text_in("X", sid="SMreplayed")
    second = stack.text_in("X", sid="SMreplayed")

    assert first.status_code == second.status_code == 200
    assert first.headers["Content-Type"].startswith("application/xml")
    assert "is cancelled. To book a new time" in first.text
    assert first.text == second.text
    assert InboundMessage.objects.filter(message_sid="SMreplayed").count() == 1
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CANCELLED
    assert appointment.events.filter(kind="cancelled").count() == 1


def test_stop_means_no_more_texts_until_start(stack: Stack) -> None:
    from common.events import Actor
    from scheduling.booking import services

    appointment = book_visit()
    wait_for(lambda: len(stack.texts_to()) == 1)

    assert stack.text_in("STOP").status_code == 200
    # The next day at the same time: an hour later can fall past the hours' 23:59 close.
    appointment = services.reschedule_appointment(
        appointment=appointment, start=appointment.start + timedelta(days=1), actor=Actor.STAFF
    )
    wait_for(lambda: settled(appointment))
    assert row_status(appointment, "rescheduled") == "suppressed"

    assert stack.text_in("START").status_code == 200
    services.cancel_appointment(appointment=appointment, actor=Actor.STAFF)
    wait_for(lambda: len(stack.texts_to()) == 2, what="a text after START")

    assert "cancelled by the clinic" in stack.texts_to()[-1]["body"]


def test_a_no_show_brings_one_check_in_however_often_it_is_swept(stack: Stack) -> None:
    from notifications.delivery import dispatch, sweep
    from scheduling.booking import services

    appointment = book_visit(hours_ahead=1)
    wait_for(lambda: settled(appointment), what="the confirmation to be sent")

    def check_ins() -> list[str]:
        return [t["body"] for t in stack.texts_to() if "988" in t["body"]]

    marked_at = appointment.start + timedelta(minutes=10)
    services.record_attendance(
        appointment=appointment, status="no_show", actor="provider", now=marked_at
    )
    row = rows(appointment, template="checkin").get()
    assert row.send_after == appointment.end  # never before the visit's end

    sweep(now=appointment.end - timedelta(seconds=30))
    time.sleep(1.0)
    assert check_ins() == []

    for late in (1, 2, 60):  # a sweep each minute; the same row handed over twice more
        sweep(now=appointment.end + timedelta(seconds=late))
    dispatch([row.pk])
    dispatch([row.pk])
    wait_for(lambda: len(check_ins()) == 1, what="the check-in")
    # The provider corrects the record, then marks the no-show again: still one check-in.
    services.record_attendance(
        appointment=appointment, status="attended", actor="provider", now=marked_at
    )
    services.record_attendance(
        appointment=appointment, status="no_show", actor="provider", now=marked_at
    )
    sweep(now=appointment.end + timedelta(minutes=5))
    time.sleep(1.5)

    (body,) = check_ins()
    assert "/rebook" in body and "LINK_TOKEN_PLACEHOLDER" not in body
    assert rows(appointment, template="checkin").count() == 1
