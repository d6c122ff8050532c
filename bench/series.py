"""Benchmark: booking a 16-week recurring series through the API on PostgreSQL (issue 13).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bw_series_bench .venv/bin/python bench/series.py

Recreates and migrates the database, seeds the directory of bench/booking.py (services made
bookable as series of up to 16 weeks), then books BENCH_SERIES weekly series of 16 visits
through POST /api/appointments/ in-process (the whole Django and DRF stack, one client) and
prints p50/p95 latency, SQL statements per series and per visit, and a single booking's
figures measured the same way for comparison.
Targets (issue 13): p50 <= 120 ms, statements <= 3 per visit plus a constant.
Options: BENCH_SERIES (40).
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bw_series_bench")

from bench.booking import body, recreate_database, seed, seed_proofs, setup_django  # noqa: E402

SERIES = int(os.environ.get("BENCH_SERIES", "40"))
WEEKS = 16


def series_body(provider: str, start: datetime, n: int) -> bytes:
    data = json.loads(body(provider, start, n))
    data["repeat"] = {"every_weeks": 1, "count": WEEKS}
    return json.dumps(data).encode()


def timed_posts(payloads: list[bytes]) -> tuple[list[float], list[int]]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    seconds, statements = [], []
    for payload in payloads:
        with CaptureQueriesContext(connection) as ctx:
            began = time.perf_counter()
            response = client.post("/api/appointments/", payload, content_type="application/json")
            seconds.append(time.perf_counter() - began)
        assert response.status_code == 201, response.content
        statements.append(len(ctx.captured_queries))
    return seconds, statements


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def main() -> None:
    recreate_database()
    setup_django()
    from scheduling.models import Appointment, Service

    providers = seed(4)
    Service.objects.update(series_max_weeks=WEEKS, horizon_days=365)
    seed_proofs(range(SERIES + 40))
    day = datetime.now(UTC).date() + timedelta(days=2)
    base = datetime(day.year, day.month, day.day, tzinfo=UTC)
    # Each series at its own half hour of its provider's day, so none collides.
    series = [
        series_body(providers[i % 4], base + timedelta(minutes=30 * (i // 4)), i)
        for i in range(SERIES)
    ]
    singles = [
        body(providers[i % 4], base + timedelta(days=200, minutes=30 * (i // 4)), SERIES + i)
        for i in range(20)
    ]
    timed_posts(singles[:2])  # warm-up: imports, connection, caches
    single_s, single_q = timed_posts(singles[2:])
    series_s, series_q = timed_posts(series)
    booked = Appointment.objects.filter(series__isnull=False).count()
    assert booked == SERIES * WEEKS, booked
    print(f"series booked: {SERIES} x {WEEKS} weekly visits = {booked} appointments")
    print(
        f"series: p50 {pct(series_s, 0.5):.1f} ms, p95 {pct(series_s, 0.95):.1f} ms; "
        f"statements per series median {statistics.median(series_q):.0f} "
        f"(max {max(series_q)}), per visit {statistics.median(series_q) / WEEKS:.2f}"
    )
    print(
        f"single booking for comparison: p50 {pct(single_s, 0.5):.1f} ms, "
        f"statements median {statistics.median(single_q):.0f}"
    )
    per_visit = (statistics.median(series_q) - statistics.median(single_q)) / (WEEKS - 1)
    print(f"statements a series adds per extra visit over one booking: {per_visit:.2f}")


if __name__ == "__main__":
    main()
