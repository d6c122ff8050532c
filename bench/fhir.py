"""Benchmark the FHIR facade: a 31-day Slot search against the JSON slot API, and a
100-entry Appointment search with its query count.

    .venv/bin/python bench/fhir.py                       # fresh SQLite under /tmp
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bw_bench_fhir .venv/bin/python bench/fhir.py

Targets (issue 17): (a) the Slot search <= 2x the JSON slot API's time for the same
schedule and days; (b) a 100-entry Appointment search <= 100 ms with the same number of
queries as a 10-entry one.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._data import build, setup_django


def median_ms(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    fn()  # warm caches (zoneinfo, url resolver, connection)
    times = []
    result = None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--providers", type=int, default=200)
    parser.add_argument("--appointments", type=int, default=4000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--reuse", action="store_true")
    args = parser.parse_args()

    url = setup_django("sqlite:////tmp/bridgeway-bench-fhir.sqlite3", fresh=not args.reuse)

    from datetime import timedelta

    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from common.api_tokens import issue_api_token
    from scheduling.models import Appointment, Provider, Service

    started = time.perf_counter()
    data = build(providers=args.providers, appointments=args.appointments)
    print(
        f"database: {connection.vendor} ({url.split('@')[-1]}), "
        f"DB_CONN_MAX_AGE={os.environ.get('DB_CONN_MAX_AGE')}"
    )
    print(
        f"size: {Provider.objects.count()} providers, {Service.objects.count()} services, "
        f"{Appointment.objects.count()} appointments "
        f"(bench rows ready in {time.perf_counter() - started:.1f} s)"
    )
    user, _ = get_user_model().objects.get_or_create(
        username="bench-fhir", defaults={"is_staff": True}
    )
    client = Client(HTTP_AUTHORIZATION=f"Token {issue_api_token(user=user)}")
    verdicts: list[bool] = []

    provider = Provider.objects.get(slug=data.sample_slug)
    service = Service.objects.filter(provider=provider).order_by("position", "pk").first()
    assert service is not None
    first, last = data.first_day, data.first_day + timedelta(days=30)
    json_url = (
        f"/api/providers/{provider.slug}/slots/?service={service.slug}"
        f"&start={first}&end={last}&tz=UTC"
    )
    fhir_url = (
        f"/fhir/Slot?schedule=Schedule/{service.pk}&status=free&_count=1000"
        f"&start=ge{first}&start=lt{last + timedelta(days=1)}"
    )
    print(f"(a) one schedule's slots, {first}..{last} (31 days)")
    json_ms, response = median_ms(lambda: client.get(json_url), args.repeat)
    assert response.status_code == 200, response.content[:300]
    json_count = len(response.json())
    fhir_ms, response = median_ms(lambda: client.get(fhir_url), args.repeat)
    assert response.status_code == 200, response.content[:300]
    fhir_count = response.json()["total"]
    assert fhir_count == json_count, (fhir_count, json_count)
    with CaptureQueriesContext(connection) as queries:
        client.get(fhir_url)
    ratio = fhir_ms / json_ms
    verdicts.append(ratio <= 2.0)
    print(
        f"  JSON slot API                                   {json_ms:8.2f} ms  [{json_count} slots]"
    )
    print(
        f"  FHIR Slot search                                {fhir_ms:8.2f} ms  "
        f"[{fhir_count} slots, {len(queries)} queries]  ratio {ratio:.2f}x "
        f"(target <= 2x: {'ok' if ratio <= 2.0 else 'MISSED'})"
    )

    print("(b) Appointment search, every appointment from the first bench day on")
    counts = {}
    for size in (10, 100):
        search = f"/fhir/Appointment?date=ge{first}&_count={size}"
        ms, response = median_ms(lambda search=search: client.get(search), args.repeat)
        assert response.status_code == 200, response.content[:300]
        entries = len(response.json()["entry"])
        with CaptureQueriesContext(connection) as queries:
            client.get(search)
        counts[size] = len(queries)
        flag = ""
        if size == 100:
            ok = ms <= 100.0 and entries == 100
            verdicts.append(ok)
            flag = f"  (target <= 100 ms: {'ok' if ok else 'MISSED'})"
        print(
            f"  _count={size:<4} {entries:4} entries {ms:8.2f} ms  [{len(queries)} queries]{flag}"
        )
    constant = counts[10] == counts[100]
    verdicts.append(constant)
    print(f"  queries constant in the page size: {'ok' if constant else 'MISSED'}")
    return 0 if all(verdicts) else 1


if __name__ == "__main__":
    raise SystemExit(main())
