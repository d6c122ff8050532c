"""django-q2 entry points: a service call, nothing swallowed."""

from __future__ import annotations

from scheduling.booking import idempotency
from scheduling.booking.waitlist import offers
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


def offer_waitlist_places(provider_id: int) -> int:
    """Offer the places free at one provider to whoever waits; returns how many."""
    return len(offers.run_queued(provider_id))


def sweep_waitlist() -> int:
    """End lapsed waitlist holds and offer what is free; returns the offers made."""
    return offers.sweep()
