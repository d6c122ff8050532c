"""worker_health, the worker container's health check: fails unless a worker finished an
outbox sweep in the last two minutes (the sweep runs every minute)."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from notifications import tasks
from notifications.health import record_sweep

pytestmark = pytest.mark.django_db
SWEEP = "notifications.tasks.sweep_due"


def swept(ago: timedelta) -> None:
    record_sweep(timezone.now() - ago)


def health(*args: str) -> str:
    out = StringIO()
    call_command("worker_health", *args, stdout=out)
    return out.getvalue()


def test_a_sweep_that_just_ran_records_the_heartbeat_and_is_healthy() -> None:
    tasks.sweep_due()

    assert health().startswith("healthy")


def test_a_sweep_a_minute_ago_is_healthy() -> None:
    swept(timedelta(seconds=70))

    assert health().startswith("healthy")


def test_no_sweep_for_three_minutes_is_unhealthy_and_exits_non_zero() -> None:
    swept(timedelta(minutes=3))

    with pytest.raises(CommandError, match="finished 180 s ago") as failed:
        health()
    assert failed.value.returncode == 1  # manage.py exits with it


def test_a_worker_that_never_swept_is_unhealthy() -> None:
    with pytest.raises(CommandError, match="no worker has ever finished"):
        health()


def test_the_allowed_delay_can_be_set() -> None:
    swept(timedelta(minutes=3))

    assert health("--max-delay", "5").startswith("healthy")


def test_without_the_schedule_it_is_unhealthy() -> None:
    from django_q.models import Schedule

    swept(timedelta(seconds=10))
    Schedule.objects.filter(func=SWEEP).delete()
    with pytest.raises(CommandError, match="run migrate"):
        health()


def test_a_sweep_that_fails_leaves_no_heartbeat(monkeypatch) -> None:
    from notifications import delivery

    def broken(**kwargs):
        raise RuntimeError("database gone")

    monkeypatch.setattr(delivery, "sweep", broken)
    with pytest.raises(RuntimeError):
        tasks.sweep_due()
    with pytest.raises(CommandError, match="no worker has ever finished"):
        health()
