"""Playwright on Debian's chromium for the browser journeys: launch, screenshots, axe scans.

Not a test module. No browser is downloaded: Debian's /usr/bin/chromium is driven headless.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

# Playwright's sync API runs an event loop in this thread; Django's ORM calls made by the
# test between browser steps are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from tests.conftest import CHROMIUM

ROOT = Path(__file__).resolve().parents[2]
OUTPUT = ROOT / "test-output" / "screenshots"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
BLOCKING_IMPACTS = {"serious", "critical"}
_AXE = Axe()


def launch_browser() -> Iterator[Browser]:
    """Debian's chromium, headless, for a session-scoped fixture of the test module."""
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


def new_context(browser: Browser, *, timezone_id: str = "America/New_York") -> BrowserContext:
    context = browser.new_context(
        viewport=PHONE, timezone_id=timezone_id, locale="en-US", device_scale_factor=1
    )
    # Generous: CI shares two cores with a worker, gunicorn races and chromium itself.
    context.set_default_timeout(30_000)
    return context


class Journey:
    """Steps of one journey: each is checked with axe and photographed at both sizes."""

    def __init__(self, name: str) -> None:
        self.folder = OUTPUT / name
        self.folder.mkdir(parents=True, exist_ok=True)
        for old in self.folder.glob("*.png"):
            old.unlink()
        self.step = 0
        self.scanned: list[str] = []

    def check(self, page: Page, label: str) -> None:
        """Scan the page with axe (fail on serious or critical) and save both screenshots."""
        page.wait_for_load_state("load")
        assert_accessible(page, label)
        self.step += 1
        slug = re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")
        size = page.viewport_size or PHONE
        for name, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
            page.set_viewport_size(viewport)
            page.screenshot(
                path=str(self.folder / f"{self.step:02d}-{slug}-{name}.png"), full_page=True
            )
        page.set_viewport_size(size)
        self.scanned.append(label)


def assert_accessible(page: Page, label: str) -> None:
    results: dict[str, Any] = _AXE.run(page).response
    blocking = [v for v in results["violations"] if v.get("impact") in BLOCKING_IMPACTS]
    if blocking:
        lines = [
            f"{v['id']} ({v['impact']}): {v['help']} at "
            + ", ".join(str(node["target"]) for node in v["nodes"][:3])
            for v in blocking
        ]
        raise AssertionError(f"axe found problems on '{label}':\n" + "\n".join(lines))
