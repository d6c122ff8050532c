"""Directory import: validation alone and the all-or-nothing write, 1,000 providers.

.venv/bin/python bench/directory_import.py            # SQLite file under /tmp
DATABASE_URL=postgres://... .venv/bin/python bench/directory_import.py
"""

from __future__ import annotations

import copy
import os
import statistics
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._data import setup_django

PROVIDERS = int(os.environ.get("BENCH_PROVIDERS", "1000"))


def main() -> None:
    url = setup_django("sqlite:////tmp/bridgeway-bench-import.sqlite3", fresh=True)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from scheduling.demo.document import build_document
    from scheduling.directory import import_directory, validate_directory
    from scheduling.models import Provider

    Provider.objects.filter(slug__startswith="imp-").delete()
    demo = build_document(date.today())["providers"]
    providers = []
    for n in range(PROVIDERS):
        item = copy.deepcopy(demo[n % len(demo)])
        item["slug"] = f"imp-{n:04d}-{item['slug']}"[:80]
        providers.append(item)
    document = {"providers": providers}
    windows = sum(len(p["weekly_hours"]) for p in providers)
    services = sum(len(p["services"]) for p in providers)
    print(
        f"directory import on {url.split(':')[0]}: {PROVIDERS} providers, "
        f"{services} services, {windows} weekly windows"
    )

    runs = []
    for _ in range(5):
        started = time.perf_counter()
        validate_directory(document)
        runs.append(time.perf_counter() - started)
    print(f"  validate only        median {statistics.median(runs) * 1000:8.1f} ms (5 runs)")

    for label in ("first import (create)", "second import (update)"):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            summary = import_directory(document=document)
            elapsed = time.perf_counter() - started
        print(
            f"  {label:<22} {elapsed * 1000:8.0f} ms, {len(queries)} queries "
            f"({len(queries) / PROVIDERS:.1f} per provider); {summary}"
        )


if __name__ == "__main__":
    main()
