"""Benchmark: the whole system under a mixed load at a fixed arrival rate (issue 18).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bw_load REDIS_URL=redis://127.0.0.1:6379/9 \\
        .venv/bin/python bench/load.py --rate 60 --seconds 60
    ... bench/load.py --find-knee --rates 24,48,96,150 --seconds 30

Recreates and migrates the database, seeds a directory (--providers, open around the clock,
with visits to move, cancel and confirm by text), starts the local Twilio-speaking server
(answering in --delay seconds), --masters gunicorn masters (config/gunicorn.py, each
--web-workers processes x --threads threads) on ONE port with SO_REUSEPORT, so the kernel
spreads connections over both, and --clusters `qcluster` processes; then locust (headless,
a subprocess; bench/load_users.py) sends searches, provider pages, slot queries, bookings,
reschedules, cancellations, feed polls with If-None-Match and signed inbound SMS replies at
--rate requests a second for --seconds (one booking in six requests). Web and workers share
nothing but PostgreSQL and Redis, so two masters answering one client stream is the proof
that the web tier is stateless.

Prints per endpoint requests, failures and p50/p95/p99 (ms); texts due in the run vs sent;
texts the Twilio server received twice (must be 0); the outbox lag (seconds from the end of
the load until no due text is left unsent). --find-knee steps through --rates and prints
the highest that meets every target: 0 failures, booking p95 <= 60 ms, each read p95 <= 30
ms, no text twice, outbox drained <= 5 s. The load generator shares the machine.
"""

from __future__ import annotations

import argparse
import csv
import http.client
import json
import math
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bw_load")

from bench.booking import (  # noqa: E402
    SERVER_ENV,
    body,
    recreate_database,
    seed,
    seed_proofs,
    setup_django,
    slot_starts,
)

READS = ("search", "provider", "slots", "feed")
WRITES = ("book", "reschedule", "cancel", "sms_reply")
SHARE = {"book": 4 / 24, "reschedule": 1 / 24, "cancel": 1 / 24, "sms_reply": 1 / 24}
TARGETS = {"book_p95": 60.0, "read_p95": 30.0, "drain_s": 5.0}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=60, help="requests per second")
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--find-knee", action="store_true")
    parser.add_argument("--rates", default="24,48,96,150,200", help="--find-knee's steps")
    parser.add_argument("--providers", type=int, default=40)
    parser.add_argument("--masters", type=int, default=2)
    parser.add_argument("--web-workers", type=int, default=1, help="processes per master")
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--clusters", type=int, default=2)
    parser.add_argument("--q-workers", type=int, default=2)
    parser.add_argument("--delay", type=float, default=0.15, help="Twilio answer time, s")
    return parser.parse_args()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class System:
    """The fake Twilio server, the gunicorn masters and the worker clusters."""

    def __init__(self, args: argparse.Namespace) -> None:
        from tests.integration.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio

        self.port = free_port()
        self.fake = FakeTwilio(delay=args.delay).start()
        self.env = {
            **os.environ,
            **SERVER_ENV,
            "DEBUG": "0",
            "PUBLIC_BASE_URL": f"http://127.0.0.1:{self.port}",
            "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "TWILIO_API_BASE_URL": self.fake.url,
            "TWILIO_FROM_NUMBER": "+15005550006",
            "Q_LOG_LEVEL": "WARNING",
            "Q_WORKERS": str(args.q_workers),
            "PORT": str(self.port),
            "WEB_CONCURRENCY": str(args.web_workers),
            "GUNICORN_THREADS": str(args.threads),
        }
        self.auth_token = AUTH_TOKEN
        gunicorn = str(Path(sys.executable).with_name("gunicorn"))
        self.processes = [
            subprocess.Popen(
                [gunicorn, "-c", "python:config.gunicorn", "config.wsgi:application"]
                + ["--bind", f"127.0.0.1:{self.port}", "--reuse-port"]
                + ["--access-logfile", "/dev/null", "--log-level", "warning"],
                cwd=ROOT,
                env=self.env,
                start_new_session=True,
            )
            for _ in range(args.masters)
        ]
        self.processes += [
            subprocess.Popen(
                [sys.executable, "manage.py", "qcluster"],
                cwd=ROOT,
                env=self.env,
                start_new_session=True,
                stdout=subprocess.DEVNULL,
            )
            for _ in range(args.clusters)
        ]
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/healthz/")
                if conn.getresponse().status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.3)
        self.stop()
        raise RuntimeError("the web servers did not start")

    def stop(self) -> None:
        for process in self.processes:
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        self.fake.stop(callback_wait=1)


def warm_up(port: int, slugs: list[str], feeds: list[str]) -> None:
    """Every web process imports, connects and fills its caches before anything is timed:
    reads over several connections, which SO_REUSEPORT spreads over the masters."""
    today = datetime.now(UTC).date()
    paths = ["/api/providers/?state=NY", *feeds]
    paths += [
        f"/api/providers/{slug}/slots/?service=visit&state=NY&start={today}&end={today}"
        for slug in slugs[:5]
    ]
    for _ in range(8):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for path in paths:
            conn.request("GET", path)
            conn.getresponse().read()
        conn.close()


def seed_visits(count: int, slugs: list[str], first_day: int) -> list[tuple[str, str, str]]:
    """`count` booked visits to move, cancel and confirm: (id, manage token, phone)."""
    from django.db import transaction

    from notifications.models import Notification
    from scheduling.booking.links import manage_token
    from scheduling.booking.patients import PatientDetails
    from scheduling.booking.services import book_appointment
    from scheduling.models import Service

    services = {s.provider.slug: s for s in Service.objects.select_related("provider")}
    visits = []
    starts = slot_starts(first_day, 1 + count // (47 * len(slugs)))
    for n in range(count):
        phone = f"+1646{200 + n // 10000 % 800:03d}{n % 10000:04d}"
        with transaction.atomic():
            appointment = book_appointment(
                service=services[slugs[n % len(slugs)]],
                start=starts[n // len(slugs)],
                patient=PatientDetails(
                    name=f"Load Visitor{n}", phone=phone, timezone="UTC", state="NY"
                ),
                sms_consent=True,
                possession=True,
            )
        visits.append((str(appointment.pk), manage_token(appointment), phone))
    Notification.objects.update(status="sent", sent_at=datetime.now(UTC))  # a quiet outbox
    return visits


def write_plan(
    path: Path,
    *,
    step: int,
    rate: float,
    seconds: int,
    slugs: list[str],
    visits: list[tuple[str, str, str]],
    feeds: list[str],
    system: System,
) -> None:
    budget = {name: int(rate * seconds * share * 1.5) + 5 for name, share in SHARE.items()}
    base = 1_000_000 * (step + 1)
    # Each step books its own days, clear of the seeded visits and their new times.
    starts = slot_starts(2 + 4 * step, 4 + math.ceil(budget["book"] / (47 * len(slugs))))
    bookings = [
        json.loads(body(slugs[n % len(slugs)], starts[n // len(slugs)], base + n))
        for n in range(budget["book"])
    ]
    seed_proofs(range(base, base + len(bookings)))
    per = budget["reschedule"] + budget["cancel"] + budget["sms_reply"]
    mine, visits[:per] = visits[:per], []  # each step its own visits
    moved_to = slot_starts(200 + 20 * step, 20)
    moves, cancels, replies = (
        mine[: budget["reschedule"]],
        mine[budget["reschedule"] : budget["reschedule"] + budget["cancel"]],
        mine[budget["reschedule"] + budget["cancel"] :],
    )
    today = datetime.now(UTC).date()
    plan = {
        "public_base_url": f"http://127.0.0.1:{system.port}",
        "twilio_auth_token": system.auth_token,
        "providers": slugs,
        "searches": ["state=NY", "state=NY&accepting=true", "state=NY&kind=therapist", "q=Bench"],
        "slot_range": f"start={today + timedelta(days=1)}&end={today + timedelta(days=7)}",
        "feeds": feeds,
        "bookings": bookings,
        "reschedules": [
            {"id": pk, "token": token, "start": moved_to[n].isoformat()}
            for n, (pk, token, _) in enumerate(moves)
        ],
        "cancels": [{"id": pk, "token": token} for pk, token, _ in cancels],
        "replies": [
            {"sid": f"SMload{step}x{n}", "from": phone} for n, (_, _, phone) in enumerate(replies)
        ],
    }
    path.write_text(json.dumps(plan))


def run_step(
    step: int, rate: float, args: argparse.Namespace, system: System, ctx: dict, tmp: Path
) -> dict:
    from django.db.models import Q

    from notifications.models import Notification

    plan = tmp / f"plan{step}.json"
    write_plan(plan, step=step, rate=rate, seconds=args.seconds, system=system, **ctx)
    users = max(1, round(rate))  # one request a second each
    system.fake.messages.clear()
    began = datetime.now(UTC)
    locust = str(Path(sys.executable).with_name("locust"))
    log = tmp / f"step{step}.log"
    subprocess.run(
        [locust, "-f", str(ROOT / "bench" / "load_users.py"), "--headless"]
        + ["--host", f"http://127.0.0.1:{system.port}", "-u", str(users), "-r", str(users)]
        + ["-t", f"{args.seconds}s", "--csv", str(tmp / f"step{step}"), "--only-summary"]
        + ["--loglevel", "ERROR", "--stop-timeout", "10"],
        cwd=ROOT,
        env={**os.environ, "LOAD_PLAN": str(plan), "LOAD_PACE": "1"},
        check=False,
        stdout=subprocess.DEVNULL,
        stderr=log.open("w"),
    )
    ended = datetime.now(UTC)
    if not (tmp / f"step{step}_stats.csv").exists():
        sys.exit("locust failed:\n" + log.read_text()[-3000:])
    texts = Notification.objects.filter(channel="sms", created_at__gte=began, send_after__lte=ended)
    unsent = Q(status__in=["pending", "sending"])
    drain_started = time.monotonic()
    while texts.filter(unsent).exists() and time.monotonic() - drain_started < 60:
        time.sleep(0.2)
    lag = time.monotonic() - drain_started
    ids = Counter(
        parse_qs(urlsplit(m.get("status_callback") or "").query).get("n", ["?"])[0]
        for m in list(system.fake.messages)
    )
    stats = {}
    with open(tmp / f"step{step}_stats.csv") as handle:
        for row in csv.DictReader(handle):
            if row["Name"] != "Aggregated":
                stats[row["Name"]] = row
    return {
        "rate": rate,
        "stats": stats,
        "due": texts.count(),
        "sent": texts.filter(status__in=["sent", "delivered"]).count(),
        "left": texts.filter(unsent).count(),
        "twice": sum(n - 1 for n in ids.values() if n > 1),
        "lag": lag,
        "elapsed": (ended - began).total_seconds(),
    }


def report(result: dict) -> bool:
    stats = result["stats"]
    total = sum(int(r["Request Count"]) for r in stats.values())
    print(
        f"\nrate {result['rate']:g} requests/s for {result['elapsed']:.0f} s: {total} requests "
        f"({total / result['elapsed']:.1f}/s)"
    )
    print(f"  {'endpoint':12} {'requests':>8} {'failures':>8} {'p50':>6} {'p95':>6} {'p99':>6}")
    ok = True
    for name in (*READS, *WRITES):
        row = stats.get(name)
        if row is None:
            continue
        failures, p95 = int(row["Failure Count"]), float(row["95%"])
        limit = TARGETS["book_p95"] if name == "book" else TARGETS["read_p95"]
        met = failures == 0 and (name not in (*READS, "book") or p95 <= limit)
        ok &= met
        print(
            f"  {name:12} {row['Request Count']:>8} {failures:>8} {row['50%']:>6} "
            f"{row['95%']:>6} {row['99%']:>6}{'' if met else '  <- misses'}"
        )
    drained = result["left"] == 0 and result["lag"] <= TARGETS["drain_s"]
    ok &= drained and result["twice"] == 0
    print(
        f"  texts due in the run {result['due']}, sent {result['sent']}, sent twice "
        f"{result['twice']}; outbox drained {result['lag']:.1f} s after the end"
        + ("" if result["left"] == 0 else f" ({result['left']} still unsent)")
    )
    print(f"  targets {'met' if ok else 'missed'}")
    return ok


def main() -> None:
    args = parse_args()
    if not os.environ.get("REDIS_URL"):
        print("bench/load.py: skipped; set REDIS_URL to a Redis database it may empty")
        return
    rates = [float(r) for r in args.rates.split(",")] if args.find_knee else [args.rate]
    print(
        f"database {os.environ['DATABASE_URL'].rsplit('/', 1)[-1]} (PostgreSQL), Redis broker and "
        f"cache; {args.masters} gunicorn masters x {args.web_workers} processes x "
        f"{args.threads} threads on one port (SO_REUSEPORT); {args.clusters} qcluster x "
        f"{args.q_workers} workers; Twilio answers in {args.delay * 1000:.0f} ms; "
        f"{os.cpu_count()} CPUs shared with the load generator, PostgreSQL and Redis"
    )
    recreate_database()
    setup_django()
    import redis
    from django.conf import settings

    settings.DEBUG = False
    redis.from_url(os.environ["REDIS_URL"]).flushdb()  # no tasks left from an earlier run
    from scheduling.calendar.feeds import feed_token, feed_url
    from scheduling.models import Provider

    slugs = seed(args.providers)
    needed = sum(int(r * args.seconds * share * 1.5) + 5 for r in rates for share in (1 / 24,) * 3)
    visits = seed_visits(needed, slugs, first_day=120)
    feeds = [
        urlsplit(feed_url(feed_token(provider=p))).path
        for p in Provider.objects.order_by("pk")[:10]
    ]
    system = System(args)
    warm_up(system.port, slugs, feeds)
    best = None
    try:
        with tempfile.TemporaryDirectory(prefix="bw-load-") as tmp:
            ctx = {"slugs": slugs, "visits": visits, "feeds": feeds}
            for step, rate in enumerate(rates):
                met = report(run_step(step, rate, args, system, ctx, Path(tmp)))
                if met:
                    best = rate
    finally:
        system.stop()
    if args.find_knee:
        print(
            f"\nknee: {best:g} requests/s (about {best / 6:.1f} bookings/s)"
            if best
            else "\nknee: below the lowest rate tried"
        )


if __name__ == "__main__":
    main()
