"""django-q2 entry points: a service call, nothing swallowed."""

from __future__ import annotations

from scheduling.booking import idempotency


def purge_idempotency_keys() -> int:
    """Delete Idempotency-Key answers past their 24 h life; returns how many."""
    return idempotency.purge_expired_keys()
