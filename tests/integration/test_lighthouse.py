"""Lighthouse 12.2.3 (tests/lighthouse/package.json) on every patient page at phone size, run
with Debian's chromium: performance, accessibility and best practices must each be >= 95.

The scores are printed (pytest -s shows them) and written to test-output/lighthouse/.
`npm ci --prefix tests/lighthouse` installs Lighthouse; .ci/run does it when npm exists.
"""

from __future__ import annotations

import json
import os
import subprocess
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote
from urllib.request import urlopen

import pytest
from django.utils import timezone

from scheduling.availability import selectors as availability
from scheduling.booking import links
from tests.conftest import CHROMIUM
from tests.factories import AppointmentFactory, ProviderFactory, ServiceFactory
from tests.integration.browser_support import ROOT

LIGHTHOUSE = ROOT / "tests" / "lighthouse" / "node_modules" / "lighthouse" / "cli" / "index.js"
OUTPUT = ROOT / "test-output" / "lighthouse"
CATEGORIES = ("performance", "accessibility", "best-practices")
MINIMUM = 95

pytestmark = [
    pytest.mark.browser,
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not LIGHTHOUSE.exists() and not os.environ.get("CI"),
        reason="run: npm ci --prefix tests/lighthouse",
    ),
]


def scores(url: str, name: str) -> dict[str, int]:
    """Lighthouse's advice for noisy machines (CI shares two cores): when a run falls short,
    up to five runs, stopping once three agree, and the median of them."""
    runs = [lighthouse(url, name)]
    while min(runs[0].values()) < MINIMUM and len(runs) < 5:
        passed = sum(min(run.values()) >= MINIMUM for run in runs)
        if passed >= 3 or len(runs) - passed >= 3:
            break
        runs.append(lighthouse(url, f"{name}-{len(runs) + 1}"))
    return {key: sorted(run[key] for run in runs)[len(runs) // 2] for key in CATEGORIES}


def lighthouse(url: str, name: str) -> dict[str, int]:
    language = "es" if "-es" in name else "en-US"
    """Scores (0-100) of one page, Lighthouse's default mobile run (a 412x823 phone)."""
    OUTPUT.mkdir(parents=True, exist_ok=True)
    report = OUTPUT / f"{name}.json"
    for _attempt in range(2):  # a trace is sometimes lost (NO_NAVSTART): one more run
        run = _run(url, report, language)
        if "NO_NAVSTART" not in run.stderr:
            break
    assert run.returncode == 0, f"{name}: {run.stderr[-2000:]}"
    categories = json.loads(report.read_text())["categories"]
    return {key: round((categories[key]["score"] or 0) * 100) for key in CATEGORIES}


def _run(url: str, report: Path, language: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            "node",
            str(LIGHTHOUSE),
            url,
            "--quiet",
            f"--extra-headers={json.dumps({'Accept-Language': language})}",
            "--output=json",
            f"--output-path={report}",
            f"--only-categories={','.join(CATEGORIES)}",
            "--chrome-flags=--headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage",
        ],
        check=False,
        timeout=180,
        # The browser's zone matches the visitor's state: no reload to adopt it.
        env={**os.environ, "CHROME_PATH": CHROMIUM or "", "TZ": "America/New_York"},
        capture_output=True,
        text=True,
    )


def test_every_patient_page_scores_at_least_95_on_a_phone(live_server):
    provider = ProviderFactory(
        slug="dana-whitfield",
        name="Dana Whitfield",
        states=["NY"],
        hours=[(d, "09:00", "17:00") for d in range(7)],
        intro="I help adults rebuild routines, by video or phone.",
    )
    service = ServiceFactory(provider=provider, slug="intake", name="First visit")
    appointment = AppointmentFactory(service=service, start=timezone.now() + timedelta(days=3))
    token = links.manage_token(appointment)
    soonest = availability.next_available([service])[service.pk]
    first = quote((soonest + timedelta(days=1)).isoformat())
    base = live_server.url
    pages = {
        "find": f"{base}/",
        "results": f"{base}/?state=NY",
        "results-es": f"{base}/?state=NY",
        "provider": f"{base}/providers/{provider.slug}/?state=NY",
        "provider-es": f"{base}/providers/{provider.slug}/?state=NY",
        "book": f"{base}/providers/{provider.slug}/book/?service=intake&state=NY&start={first}",
        "booked": f"{base}/m/{token}/booked",
        "manage": f"{base}/m/{token}",
        "cancel": f"{base}/m/{token}/cancel",
        "reschedule": f"{base}/m/{token}/reschedule",
    }
    for url in pages.values():  # the first request of each page compiles its templates
        urlopen(url).read()
    found = {name: scores(url, name) for name, url in pages.items()}
    print("\nLighthouse (mobile):")
    for name, page_scores in found.items():
        print(f"  {name:12} " + "  ".join(f"{k} {v}" for k, v in page_scores.items()))
    low = {
        name: {k: v for k, v in s.items() if v < MINIMUM}
        for name, s in found.items()
        if min(s.values()) < MINIMUM
    }
    assert low == {}, f"below {MINIMUM}: {low} (reports in {OUTPUT})"
