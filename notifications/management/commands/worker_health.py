"""The worker's health check: exit non-zero unless a worker finished an outbox sweep lately.

Each sweep (every minute, notifications.tasks.sweep_due) records when it finished
(notifications.health). A cluster whose scheduler runs but whose workers are stuck or dead,
or no cluster at all, stops that heartbeat; `qinfo` exits 0 either way, so it cannot tell.
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
        "Exit 0 when a worker finished an outbox sweep within the last few minutes, 1 "
        "otherwise (no cluster running, workers stuck, schedule missing, database unreachable)."
    )
    requires_system_checks: list[str] = []  # runs every 30 s: only the query matters

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--max-delay",
            type=int,
            default=2,
            metavar="MINUTES",
            help="how long ago the last sweep may have finished (default 2; it runs every minute)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from django_q.models import Schedule

        from notifications.health import last_sweep_age

        now = timezone.now()
        try:
            scheduled = Schedule.objects.filter(func=SWEEP_FUNC).exclude(repeats=0).exists()
            age = last_sweep_age(now)
        except DatabaseError as exc:
            raise CommandError(f"unhealthy: cannot read the heartbeat: {exc}") from exc
        if not scheduled:
            raise CommandError(f"unhealthy: no schedule runs {SWEEP_FUNC} (run migrate)")
        if age is None:
            raise CommandError("unhealthy: no worker has ever finished an outbox sweep")
        if age > timedelta(minutes=options["max_delay"]):
            raise CommandError(
                f"unhealthy: the last outbox sweep finished {int(age.total_seconds())} s ago"
            )
        self.stdout.write(
            f"healthy: the last outbox sweep finished {int(age.total_seconds())} s ago"
        )
