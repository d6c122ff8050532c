"""The worker's health check: exit non-zero unless a cluster has taken the sweep lately.

`qinfo` exits 0 whether or not any cluster runs, so it cannot tell a dead worker. A running
cluster's scheduler (every few seconds, in any worker container) moves the sweep Schedule's
next_run past now each time it queues the sweep; with no cluster, next_run falls behind.
(The Schedule's last task is no help: Q_SAVE_LIMIT=-1 stores no successful task.)
"""

from __future__ import annotations

from argparse import ArgumentParser
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError
from django.utils import timezone

SWEEP_FUNC = "notifications.tasks.sweep_due"  # notifications/migrations/0003_sweep_schedule.py


class Command(BaseCommand):
    help = (
        "Exit 0 when a worker cluster has queued the outbox sweep within the last few "
        "minutes, 1 otherwise (no cluster running, schedule missing, database unreachable)."
    )
    requires_system_checks: list[str] = []  # runs every 30 s: only the query matters

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--max-delay",
            type=int,
            default=5,
            metavar="MINUTES",
            help="how late the sweep may be before the worker counts as down (default 5)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from django_q.models import Schedule

        try:
            schedule = Schedule.objects.filter(func=SWEEP_FUNC).order_by("-next_run").first()
        except DatabaseError as exc:
            raise CommandError(f"unhealthy: cannot read the schedule: {exc}") from exc
        if schedule is None:
            raise CommandError(f"unhealthy: no schedule runs {SWEEP_FUNC} (run migrate)")
        if schedule.repeats == 0 or schedule.next_run is None:
            raise CommandError("unhealthy: the sweep schedule has stopped repeating")
        late = timezone.now() - schedule.next_run
        if late > timedelta(minutes=options["max_delay"]):
            raise CommandError(
                f"unhealthy: the sweep was due {int(late.total_seconds())} s ago and no "
                "worker cluster has queued it"
            )
        self.stdout.write(f"healthy: the sweep is next due at {schedule.next_run.isoformat()}")
