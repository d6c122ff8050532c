"""Benchmark: what one booking costs in-process, statements and CPU (issue 18, part 1).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bw_booking_cost .venv/bin/python bench/booking_cost.py

Recreates and migrates the database, seeds the directory of bench/booking.py, then books
BENCH_BOOKINGS distinct slots through POST /api/appointments/ in-process (the whole Django
and DRF stack, no HTTP server, one client, a proof of possession per phone) and prints:
the SQL statements of one booking, one line each; statements per booking (mean, max); CPU
milliseconds per booking (process time, p50 and mean); and with --profile the functions
that cost the most. Half the bookings are by a new number, half by a returning one.
Targets (issue 18): <= 12 statements on PostgreSQL, <= 7 ms CPU per booking.
Options: BENCH_BOOKINGS (300), --profile.
"""

from __future__ import annotations

import cProfile
import os
import pstats
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bw_booking_cost")
os.environ.setdefault("Q_LOG_LEVEL", "WARNING")  # no "Enqueued" line per booking on the terminal

from bench.booking import (  # noqa: E402
    body,
    recreate_database,
    seed,
    seed_proofs,
    setup_django,
    slot_starts,
)

BOOKINGS = int(os.environ.get("BENCH_BOOKINGS", "300"))


def _first_words(sql: str) -> str:
    words = sql.replace('"', "").split()
    table = next(
        (
            w
            for w in words
            if w.startswith(("scheduling_", "notifications_", "referrals_", "django_"))
        ),
        "",
    )
    return f"{' '.join(words[:2])[:40]:42} {table}"


def main() -> None:
    profile = "--profile" in sys.argv
    recreate_database()
    setup_django()
    from django.conf import settings

    # Production-shaped: no DEBUG cursors outside the captured bookings (setup_django sets
    # DEBUG for the test client's host, which SERVER_ENV's ALLOWED_HOSTS allows anyway).
    settings.DEBUG = False
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    slugs = seed(4)
    seed_proofs(range(0, BOOKINGS))
    starts = slot_starts(3, 1 + BOOKINGS // 47)
    # Every other booking is by a number that booked before (a returning patient).
    numbers = [n // 2 if n % 2 else BOOKINGS // 2 + n // 2 for n in range(BOOKINGS)]
    client = Client()
    warm = slot_starts(300, 1)[:5]
    for i, start in enumerate(warm):  # imports, connections, caches
        client.post("/api/appointments/", body(slugs[1], start, i), content_type="application/json")

    with CaptureQueriesContext(connection) as ctx:
        response = client.post(
            "/api/appointments/",
            body(slugs[2], starts[0], numbers[0]),
            content_type="application/json",
        )
    assert response.status_code == 201, response.content
    print(f"database {connection.vendor}; one booking by a new number, its statements:")
    for n, query in enumerate(ctx.captured_queries, 1):
        print(f"  {n:2}. {_first_words(query['sql'])}")

    counts, cpus = [], []
    profiler = cProfile.Profile(time.process_time) if profile else None
    plan = list(zip(starts[1:BOOKINGS], numbers[1:], strict=False))
    for start, n in plan[:20]:  # statements, captured (DEBUG cursors cost CPU: not timed)
        with CaptureQueriesContext(connection) as ctx:
            response = client.post(
                "/api/appointments/", body(slugs[0], start, n), content_type="application/json"
            )
        assert response.status_code == 201, response.content
        counts.append(len(ctx.captured_queries))
    for start, n in plan[20:]:
        payload = body(slugs[0], start, n)
        began = time.process_time()
        if profiler:
            profiler.enable()
        response = client.post("/api/appointments/", payload, content_type="application/json")
        if profiler:
            profiler.disable()
        cpus.append(time.process_time() - began)
        assert response.status_code == 201, response.content
    cpus.sort()
    print(f"\n{len(plan)} bookings (half by returning numbers), one provider, in-process")
    print(
        f"  statements per booking (first {len(counts)}): "
        f"mean {statistics.mean(counts):.1f}, max {max(counts)}"
    )
    print(
        f"  CPU per booking: p50 {cpus[len(cpus) // 2] * 1000:.2f} ms, "
        f"mean {statistics.mean(cpus) * 1000:.2f} ms (process time, the other bookings)"
    )
    print("targets: <= 12 statements (PostgreSQL), <= 7 ms CPU")
    if profiler:
        stats = pstats.Stats(profiler)
        stats.sort_stats("cumulative").print_stats(70)
        stats.sort_stats("tottime").print_stats(30)


if __name__ == "__main__":
    main()
