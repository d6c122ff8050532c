"""django-q2 entry points: a service call, nothing swallowed."""

from __future__ import annotations

from scheduling.booking import idempotency
from scheduling.calendar import sync


def purge_idempotency_keys() -> int:
    """Delete Idempotency-Key answers past their 24 h life; returns how many."""
    return idempotency.purge_expired_keys()


def sync_calendar_source(source_id: int) -> str:
    """Sync one external calendar; returns its status afterwards."""
    return str(sync.sync_source(source_id=source_id).status)


def sync_calendars() -> int:
    """Queue a sync for every external calendar that is due; returns how many."""
    return sync.sync_due_sources()
