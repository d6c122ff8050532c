"""A real Bridgeway server (gunicorn, several processes) for the booking race tests.

It listens on a socket this process binds to port 0 and hands over, so no port is ever
guessed; it is stopped by the fixture that started it.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))


def server_env(database_url: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        DEBUG="1",
        SECRET_KEY="race-test-secret-key",
        PUBLIC_BASE_URL="http://127.0.0.1",
        BOOKING_RATE_LIMIT="1000000/min",
        DB_CONN_MAX_AGE="0",
        LOG_LEVEL="ERROR",
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    )
    env.pop("REDIS_URL", None)
    env.update(extra or {})
    return env


def run_django(database_url: str, code: str, timeout: float = 240) -> str:
    """Run Python `code` with Django set up against `database_url`, in a child process."""
    script = "import django\ndjango.setup()\n" + code
    env = server_env(database_url)
    env["DJANGO_SETTINGS_MODULE"] = "config.settings"
    done = subprocess.run(
        [PYTHON, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"child failed: {done.stderr[-3000:]}")
    return done.stdout


class Server:
    def __init__(
        self,
        database_url: str,
        *,
        workers: int = 3,
        threads: int = 4,
        env: dict[str, str] | None = None,
    ) -> None:
        self.database_url = database_url
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(128)
        self.port = self.sock.getsockname()[1]
        fd = self.sock.fileno()
        os.set_inheritable(fd, True)
        self.process = subprocess.Popen(
            [
                GUNICORN,
                "config.wsgi:application",
                "--bind",
                f"fd://{fd}",
                "--workers",
                str(workers),
                "--threads",
                str(threads),
                "--worker-class",
                "gthread",
                "--timeout",
                "60",
                "--graceful-timeout",
                "5",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=server_env(database_url, env),
            pass_fds=(fd,),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        self._wait_ready()

    def _wait_ready(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.process.stderr.read().decode()[-3000:]}")
            try:
                status, body, _ = self.request("GET", "/healthz/", timeout=5)
                if status == 200:
                    return
                last = f"{status} {body}"
            except OSError as exc:
                last = repr(exc)
            time.sleep(0.3)
        self.stop()
        tail = self.process.stderr.read().decode()[-2000:] if self.process.stderr else ""
        raise RuntimeError(f"server on {self.database_url} did not become ready ({last}): {tail}")

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
        timeout: float = 60,
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            data = None if body is None else json.dumps(body).encode()
            all_headers = {"Content-Type": "application/json", **(headers or {})}
            conn.request(method, path, body=data, headers=all_headers)
            response = conn.getresponse()
            raw = response.read()
            try:
                parsed = json.loads(raw) if raw else {}
            except ValueError:
                parsed = {"raw": raw.decode(errors="replace")[:500]}
            return response.status, parsed, dict(response.getheaders())
        finally:
            conn.close()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.sock.close()


@dataclass
class Outcome:
    status: int
    body: dict[str, Any]
    headers: dict[str, str]


def race(calls: list[Callable[[], tuple[int, dict[str, Any], dict[str, str]]]]) -> list[Outcome]:
    """Run the calls in threads released at one instant; return their outcomes in order."""
    barrier = threading.Barrier(len(calls))
    results: list[Outcome | None] = [None] * len(calls)

    def run(index: int) -> None:
        barrier.wait()
        try:
            results[index] = Outcome(*calls[index]())
        except Exception as exc:  # a transport failure is an outcome to assert on
            results[index] = Outcome(-1, {"error": repr(exc)}, {})

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    return [r if r is not None else Outcome(-2, {}, {}) for r in results]


def seed(slug: str) -> None:
    """A provider in UTC, open 00:00-23:30 every day, with single, approval and group services."""
    from datetime import time as clock

    from scheduling.models import Provider, ProviderLicense, Service, WeeklyHours

    provider = Provider.objects.create(
        slug=slug, name="Robin Race", kind="therapist", timezone="UTC"
    )
    ProviderLicense.objects.create(provider=provider, state="NY")
    for weekday in range(7):
        WeeklyHours.objects.create(
            provider=provider, weekday=weekday, start=clock(0, 0), end=clock(23, 30)
        )
    rules = {
        "duration_minutes": 60,
        "buffer_before_minutes": 0,
        "buffer_after_minutes": 0,
        "min_notice_hours": 1,
        "horizon_days": 30,
        "slot_step_minutes": 30,
    }
    Service.objects.create(provider=provider, slug="single", name="Visit", **rules)
    Service.objects.create(
        provider=provider, slug="approval", name="Visit", requires_approval=True, **rules
    )
    Service.objects.create(provider=provider, slug="group", name="Group", capacity=5, **rules)
    Service.objects.create(
        provider=provider, slug="weekly", name="Visit", series_max_weeks=4, **rules
    )
    # Each racing client has done the code step for its phone (see race_proof).
    from datetime import timedelta

    from django.utils import timezone

    from common.tokens import hash_token
    from notifications.models import PhoneVerification

    now = timezone.now()
    PhoneVerification.objects.bulk_create(
        PhoneVerification(
            phone=f"+1212555{n:04d}",
            code_hash="-",
            expires_at=now,
            verified_at=now + timedelta(hours=1),  # fresh for the whole run
            token_hash=hash_token(race_proof(slug, n)),
        )
        for n in [*range(40), 4242, 9998, 9999]
    )


def race_proof(slug: str, n: int) -> str:
    """The proof-of-possession token of racing client `n` (made by seed)."""
    return f"race-proof-{slug}-{n}"
