"""Benchmark: external calendars synced by the real worker (issue 16).

    .venv/bin/python bench/calendar_sync.py                       # 50 providers x 2,000 events
    DATABASE_URL=postgres://... REDIS_URL=redis://... .venv/bin/python bench/calendar_sync.py

50 providers, each with one iCal-URL source of 2,000 events (50 of them weekly series with
EXDATEs and a moved occurrence, in a VTIMEZONE'd zone), served by a local HTTP server with
ETag / If-None-Match. The sweep (`sync_due_sources`) queues every source and a `qcluster`
worker (Redis broker when REDIS_URL is set, else the ORM) fetches, expands over the
horizon and stores the busy sets. Prints the time until all are stored (target <= 30 s),
then the time of a resync where nothing changed, every source answering 304 (target
<= 2 s), with the events, intervals and requests counted. Runs on a fresh database (a new
PostgreSQL database when DATABASE_URL names one, else a SQLite file) dropped afterwards.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._data import drop_database, scratch_database  # noqa: E402

VTIMEZONE = """BEGIN:VTIMEZONE\r
TZID:Eastern Standard Time\r
BEGIN:STANDARD\r
DTSTART:16011104T020000\r
RRULE:FREQ=YEARLY;BYDAY=1SU;BYMONTH=11\r
TZOFFSETFROM:-0400\r
TZOFFSETTO:-0500\r
END:STANDARD\r
BEGIN:DAYLIGHT\r
DTSTART:16010311T020000\r
RRULE:FREQ=YEARLY;BYDAY=2SU;BYMONTH=3\r
TZOFFSETFROM:-0500\r
TZOFFSETTO:-0400\r
END:DAYLIGHT\r
END:VTIMEZONE\r
"""


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--providers", type=int, default=50)
    parser.add_argument("--events", type=int, default=2000, help="VEVENTs per calendar")
    parser.add_argument("--series", type=int, default=50, help="of which weekly series")
    parser.add_argument("--workers", type=int, default=int(os.environ.get("Q_WORKERS", 2)))
    parser.add_argument("--timeout", type=float, default=300)
    return parser.parse_args()


def calendar_body(seed: int, events: int, series: int, now: datetime) -> bytes:
    """A year of history and three months ahead, like a busy person's work calendar."""
    rng = random.Random(seed)
    stamp = f"{now:%Y%m%dT%H%M%SZ}"
    parts = ["BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Bench//Outlook-like//EN\r\n", VTIMEZONE]
    for i in range(series):
        first = (now - timedelta(days=rng.randint(30, 300))).replace(
            hour=rng.choice([8, 9, 12, 16]), minute=0, second=0, microsecond=0, tzinfo=None
        )
        skip = first + timedelta(weeks=rng.randint(5, 60))
        moved = first + timedelta(weeks=rng.randint(5, 60))
        uid = f"series-{seed}-{i}@bench"
        zone = "TZID=Eastern Standard Time"
        parts.append(
            f"BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:{stamp}\r\nDTSTART;{zone}:{first:%Y%m%dT%H%M%S}\r\n"
            f"DTEND;{zone}:{first + timedelta(minutes=45):%Y%m%dT%H%M%S}\r\n"
            f"RRULE:FREQ=WEEKLY\r\nEXDATE;{zone}:{skip:%Y%m%dT%H%M%S}\r\n"
            f"SUMMARY:Standing meeting {i}\r\nEND:VEVENT\r\n"
            f"BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:{stamp}\r\n"
            f"RECURRENCE-ID;{zone}:{moved:%Y%m%dT%H%M%S}\r\n"
            f"DTSTART;{zone}:{moved + timedelta(hours=2):%Y%m%dT%H%M%S}\r\n"
            f"DTEND;{zone}:{moved + timedelta(hours=2, minutes=45):%Y%m%dT%H%M%S}\r\n"
            f"SUMMARY:Standing meeting {i} (moved)\r\nEND:VEVENT\r\n"
        )
    for i in range(events - series):
        start = (now + timedelta(days=rng.randint(-365, 90))).replace(
            hour=rng.randint(7, 19), minute=rng.choice([0, 15, 30, 45]), second=0, microsecond=0
        )
        transparent = "TRANSP:TRANSPARENT\r\n" if i % 17 == 0 else ""
        parts.append(
            f"BEGIN:VEVENT\r\nUID:event-{seed}-{i}@bench\r\nDTSTAMP:{stamp}\r\n"
            f"DTSTART:{start:%Y%m%dT%H%M%SZ}\r\n"
            f"DTEND:{start + timedelta(minutes=rng.choice([30, 60, 90])):%Y%m%dT%H%M%SZ}\r\n"
            f"{transparent}SUMMARY:Appointment {i}\r\nEND:VEVENT\r\n"
        )
    parts.append("END:VCALENDAR\r\n")
    return "".join(parts).encode()


class Calendars:
    """A threading HTTP server publishing one file per path, with ETag / If-None-Match."""

    def __init__(self, bodies: dict[str, bytes]) -> None:
        self.bodies = bodies
        self.etags = {p: '"' + hashlib.sha256(b).hexdigest()[:16] + '"' for p, b in bodies.items()}
        self.statuses: list[int] = []
        state = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body, etag = state.bodies.get(self.path), state.etags.get(self.path)
                if body is None:
                    status, body = 404, b""
                elif self.headers.get("If-None-Match") == etag:
                    status, body = 304, b""
                else:
                    status = 200
                state.statuses.append(status)
                self.send_response(status)
                if etag:
                    self.send_header("ETag", etag)
                self.send_header("Content-Type", "text/calendar")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def group_cpu_seconds(pgid: int) -> float:
    """CPU time used so far by the worker's process group (Linux /proc; 0 elsewhere): the
    machine may be shared, and this, unlike wall time, does not count waiting for a core."""
    total = 0
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:  # fields after the name: state, ppid, pgrp, ...
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / tick


def wait_all_synced(since: datetime, count: int, timeout: float) -> tuple[float, int]:
    from scheduling.calendar.models import CalendarSource

    started = time.perf_counter()
    done = 0
    while time.perf_counter() - started < timeout:
        done = CalendarSource.objects.filter(last_attempt_at__gte=since).count()
        if done >= count:
            break
        time.sleep(0.05)
    return time.perf_counter() - started, done


def main() -> None:
    args = parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bw-bench-cal-"))
    database_url = scratch_database(tmp, prefix="bw_bench_cal")
    cluster = f"bwbenchcal{uuid.uuid4().hex[:6]}"
    os.environ.update(
        DEBUG="1",
        SECRET_KEY=os.environ.get("SECRET_KEY", "bench-secret-key"),
        DATABASE_URL=database_url,
        Q_CLUSTER_NAME=cluster,
        Q_WORKERS=str(args.workers),
        CALENDAR_ALLOW_PRIVATE_HOSTS="1",
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
    from django.conf import settings
    from django_q.models import Schedule

    from scheduling.calendar import sync
    from scheduling.calendar.models import BusyInterval, CalendarSource
    from scheduling.models import Provider, Service

    broker = "redis" if settings.REDIS_URL else "orm"
    print(
        f"database: {database_url.split('://')[0]}; broker: {broker}; worker: "
        f"Q_WORKERS={args.workers}; {args.providers} providers x {args.events:,} events "
        f"({args.series} weekly series)"
    )
    # The sweep is called below, by hand, to time it: the schedule stays out of the way.
    Schedule.objects.update(next_run=datetime.now(UTC) + timedelta(days=1))
    now = datetime.now(UTC)
    started = time.perf_counter()
    bodies = {
        f"/{i}.ics": calendar_body(i, args.events, args.series, now) for i in range(args.providers)
    }
    server = Calendars(bodies)
    for i in range(args.providers):
        provider = Provider.objects.create(
            slug=f"bench-cal-{i}", name=f"Dana Whitfield {i}", timezone="America/New_York"
        )
        Service.objects.create(
            provider=provider, slug="visit", name="Visit", duration_minutes=50, horizon_days=60
        )
        CalendarSource.objects.create(
            provider=provider, kind="ical_url", url=f"{server.base}/{i}.ics", next_attempt_at=now
        )
    megabytes = sum(len(b) for b in bodies.values()) / 1e6
    print(
        f"built {args.providers} calendars ({megabytes:.1f} MB in all) "
        f"in {time.perf_counter() - started:.1f} s"
    )

    worker = subprocess.Popen(
        [sys.executable, "manage.py", "qcluster", "--skip-checks"],
        cwd=ROOT,
        start_new_session=True,
    )
    try:
        time.sleep(3)  # let the cluster boot so its start-up is not counted
        first = datetime.now(UTC)
        cpu = group_cpu_seconds(worker.pid)
        queued = sync.sync_due_sources()
        elapsed, done = wait_all_synced(first, args.providers, args.timeout)
        cpu = group_cpu_seconds(worker.pid) - cpu
        intervals = BusyInterval.objects.count()
        statuses = dict.fromkeys(CalendarSource.objects.values_list("status", flat=True), 0)
        for status in CalendarSource.objects.values_list("status", flat=True):
            statuses[status] += 1
        print(
            f"first sync: {done} of {queued} calendars stored in {elapsed:.2f} s (target <= 30 s): "
            f"{args.providers * args.events:,} events -> {intervals:,} busy intervals over the "
            f"60-day horizon (+7 days margin); statuses {statuses}; "
            f"server answered {server.statuses.count(200)} x 200; the worker used {cpu:.1f} "
            f"CPU seconds (load average now {os.getloadavg()[0]:.1f})"
        )
        server.statuses.clear()
        CalendarSource.objects.update(next_attempt_at=datetime.now(UTC))
        again = datetime.now(UTC)
        cpu = group_cpu_seconds(worker.pid)
        queued = sync.sync_due_sources()
        elapsed, done = wait_all_synced(again, args.providers, args.timeout)
        cpu = group_cpu_seconds(worker.pid) - cpu
        print(
            f"resync, nothing changed: {done} of {queued} calendars in {elapsed:.2f} s "
            f"(target <= 2 s); server answers: {server.statuses.count(304)} x 304, "
            f"{server.statuses.count(200)} x 200; busy intervals {BusyInterval.objects.count():,}; "
            f"the worker used {cpu:.1f} CPU seconds"
        )
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(worker.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        server.stop()
        if broker == "redis":
            import redis

            redis.from_url(settings.REDIS_URL).delete(cluster)
        from django.db import connections

        connections.close_all()
        drop_database(database_url)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
