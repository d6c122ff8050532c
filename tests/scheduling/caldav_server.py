"""A real CalDAV server for tests (not a test module): Radicale in its own process on a free
local port, with a temporary storage folder and one user with an app password."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import caldav

USER = "dana"
PASSWORD = "app-pass-9f3k-t8q2"


@dataclass
class CalDAVServer:
    base_url: str
    process: subprocess.Popen[bytes]

    def client(self) -> caldav.DAVClient:
        return caldav.DAVClient(url=self.base_url, username=USER, password=PASSWORD)

    def new_calendar(self) -> caldav.Calendar:
        """A fresh, empty calendar of the test user's, for one test."""
        principal = self.client().principal()
        return principal.make_calendar(name="Personal", cal_id=uuid.uuid4().hex)

    def put(self, calendar: caldav.Calendar, *events: str) -> None:
        """PUT each text (one VCALENDAR: a UID with its overrides) as its own resource."""
        for text in events:
            calendar.save_event(text.replace("\n", "\r\n"))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_until_listening(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"radicale exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("radicale did not start listening in 20 s")


@contextmanager
def radicale_server(folder: Path) -> Iterator[CalDAVServer]:
    (folder / "users").write_text(f"{USER}:{PASSWORD}\n")
    port = _free_port()
    config = folder / "config"
    config.write_text(
        f"""[server]
hosts = 127.0.0.1:{port}
[auth]
type = htpasswd
htpasswd_filename = {folder / "users"}
htpasswd_encryption = plain
delay = 0
[rights]
type = owner_only
[storage]
filesystem_folder = {folder / "collections"}
[web]
type = none
[logging]
level = warning
"""
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "radicale", "--config", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_until_listening(port, process)
        yield CalDAVServer(base_url=f"http://127.0.0.1:{port}/", process=process)
    finally:
        process.terminate()
        process.wait(timeout=10)
