"""The worker's heartbeat: each outbox sweep records when it finished, so worker_health and
/metrics/ can tell a cluster that works from one that only schedules (or none at all)."""

from __future__ import annotations

from datetime import datetime, timedelta

from notifications.models import WorkerHeartbeat

SWEEP = "outbox-sweep"


def record_sweep(now: datetime) -> None:
    """One UPDATE a minute (an INSERT the first time)."""
    if not WorkerHeartbeat.objects.filter(name=SWEEP).update(at=now):
        WorkerHeartbeat.objects.update_or_create(name=SWEEP, defaults={"at": now})


def last_sweep_age(now: datetime) -> timedelta | None:
    """How long ago a worker last finished a sweep; None when none ever has."""
    at = WorkerHeartbeat.objects.filter(name=SWEEP).values_list("at", flat=True).first()
    return None if at is None else now - at
