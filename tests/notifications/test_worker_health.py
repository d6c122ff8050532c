"""worker_health, the worker container's health check: fails when no cluster sweeps."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

pytestmark = pytest.mark.django_db
SWEEP = "notifications.tasks.sweep_due"


def sweep_due_in(delta: timedelta) -> None:
    from django_q.models import Schedule

    assert Schedule.objects.filter(func=SWEEP).update(next_run=timezone.now() + delta) == 1


def test_a_cluster_that_keeps_queueing_the_sweep_is_healthy() -> None:
    sweep_due_in(timedelta(seconds=40))  # what a running scheduler leaves behind
    out = StringIO()
    call_command("worker_health", stdout=out)
    assert out.getvalue().startswith("healthy")


def test_a_sweep_a_little_late_is_still_healthy() -> None:
    sweep_due_in(-timedelta(minutes=2))  # a busy cluster, or one just starting
    call_command("worker_health", stdout=StringIO())


def test_no_cluster_for_minutes_is_unhealthy_and_exits_non_zero() -> None:
    sweep_due_in(-timedelta(minutes=6))
    with pytest.raises(CommandError, match="no worker cluster has queued it") as failed:
        call_command("worker_health", stdout=StringIO())
    assert failed.value.returncode == 1  # manage.py exits with it


def test_the_allowed_delay_can_be_set() -> None:
    sweep_due_in(-timedelta(minutes=2))
    with pytest.raises(CommandError):
        call_command("worker_health", "--max-delay", "1", stdout=StringIO())


def test_without_the_schedule_it_is_unhealthy() -> None:
    from django_q.models import Schedule

    Schedule.objects.filter(func=SWEEP).delete()
    with pytest.raises(CommandError, match="run migrate"):
        call_command("worker_health", stdout=StringIO())
