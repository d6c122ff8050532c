"""Offering freed places: one person at a time, each place at most once to each person.

`offer_places(provider_id)` runs in one transaction under a row lock on the Provider, then
on each Service with anyone waiting (the lock a group booking counts its seats under), so
two runs for one provider serialize and the second sees the first's offers. A held offer
is read by the slot engine like an active appointment (a seat, or busy time), so the place
is neither offered again nor booked by anyone else while it is held. The database refuses
the rest: an offer of the same place to the same entry twice, and two held offers for one
entry (unique constraints).

Who is next: the service's waiting entries, urgent referrals first, then first come
(`waitlist_next_idx`). Each takes the first free place it wants (its session, or the
earliest opening before its date) that it was never offered and that does not overlap
the person's own active visits or held places (the visit an earlier time would move
aside). Entries whose number opted out, or who no longer agree to texts, are skipped and
keep their place.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from notifications import recording as outbox
from notifications.optouts import opted_out_among
from scheduling.availability.selectors import offered_slots_with_seats
from scheduling.booking.waitlist.messages import hold_minutes, offer_message
from scheduling.booking.waitlist.models import (
    OfferStatus,
    WaitlistEntry,
    WaitlistOffer,
    WaitlistStatus,
)
from scheduling.circle.contact import safe_contact
from scheduling.models import ACTIVE_STATUSES, Appointment, Provider, Service

logger = logging.getLogger(__name__)

# Entries of one service looked at in one run; the rest wait for the next run.
SCAN_LIMIT = 500
_US = timedelta(microseconds=1)


def next_in_line(service_id: int) -> QuerySet[WaitlistEntry]:
    """A service's waiting entries in line order (the "who is next" query)."""
    return WaitlistEntry.objects.filter(
        service_id=service_id, status=WaitlistStatus.WAITING
    ).order_by("-priority", "created_at", "id")


def dispatch(provider_ids: set[int] | list[int]) -> None:
    """Look for places to offer for these providers, after commit, through the worker."""
    ids = sorted({int(pk) for pk in provider_ids})
    if not ids:
        return
    if getattr(settings, "WAITLIST_DISPATCH", "queue") == "sync":
        # Tests only: offer in-process instead of through the queue.
        for pk in ids:
            offer_places(provider_id=pk)
        return
    from django_q.tasks import async_task

    for pk in ids:
        if _shared_cache() and not cache.add(_pending_key(pk), 1, timeout=PENDING_SECONDS):
            continue  # a run for this provider is queued and has not started: it will see this
        async_task("scheduling.tasks.offer_waitlist_places", pk, task_name="waitlist_offers")


# A burst of cancellations at one provider queues one run, not one per cancellation: the
# first marks the provider pending (an atomic cache add), the run clears the mark before it
# reads, so a change committed after that read queues a new run. Only with a cache every
# process shares (Redis); the mark lapses after PENDING_SECONDS, and the sweep runs anyway.
PENDING_SECONDS = 30


def _pending_key(provider_id: int) -> str:
    return f"waitlist:pending:{provider_id}"


def _shared_cache() -> bool:
    return "redis" in settings.CACHES["default"]["BACKEND"].lower()


def run_queued(provider_id: int) -> list[WaitlistOffer]:
    """The worker's entry point: clear the pending mark, then offer."""
    if _shared_cache():
        cache.delete(_pending_key(provider_id))
    return offer_places(provider_id=provider_id)


def dispatch_on_commit(provider_ids: set[int] | list[int]) -> None:
    ids = set(provider_ids)
    if ids:
        transaction.on_commit(lambda: dispatch(ids))


@transaction.atomic
def offer_places(*, provider_id: int, now: datetime | None = None) -> list[WaitlistOffer]:
    """Offer every free place someone waits for at this provider; record one text each."""
    now = now or timezone.now()
    if (
        Provider.objects.select_for_update().filter(pk=provider_id).values_list("pk").first()
        is None
    ):
        return []
    waited = (
        WaitlistEntry.objects.filter(provider_id=provider_id, status=WaitlistStatus.WAITING)
        .values_list("service_id", flat=True)
        .distinct()
    )
    services = (
        Service.objects.select_for_update(of=("self",))
        .select_related("provider")
        .filter(pk__in=list(waited))
        .order_by("pk")
    )
    made: list[WaitlistOffer] = []
    for service in services:
        made.extend(_offer_service(service, now))
    if made:
        outbox.enqueue_many([offer_message(offer) for offer in made], new_keys=True)
        logger.info("waitlist: %d offer(s) for provider %s", len(made), provider_id)
    return made


def _offer_service(service: Service, now: datetime) -> list[WaitlistOffer]:
    entries = list(
        next_in_line(service.pk).select_related("patient__contact_preference", "provider")[
            :SCAN_LIMIT
        ]
    )
    notice = timedelta(hours=service.min_notice_hours)
    lapsed = {
        e.pk
        for e in entries
        if (e.session_start is not None and e.session_start <= now + notice)
        or (e.before is not None and e.before <= now + notice)
    }
    if lapsed:  # nothing left to offer them: the session began or the date came
        WaitlistEntry.objects.filter(pk__in=lapsed, status=WaitlistStatus.WAITING).update(
            status=WaitlistStatus.CLOSED, updated_at=now
        )
    live = [e for e in entries if e.pk not in lapsed and e.patient.sms_consent]
    if not live:
        return []
    end = max(_wanted_until(e) for e in live)
    horizon = now + notice + timedelta(days=min(service.horizon_days, 3660) + 1)
    free: dict[datetime, int] = {
        start: seats
        for start, _, seats in offered_slots_with_seats(
            service, start=now, end=min(end, horizon), now=now
        )
    }
    if not free:
        return []
    tried = set(
        WaitlistOffer.objects.filter(entry__in=[e.pk for e in live]).values_list(
            "entry_id", "start"
        )
    )
    opted_out = opted_out_among({e.patient.phone for e in live})
    busy = _busy_times(live, now, min(end, horizon) + service.duration)
    made: list[WaitlistOffer] = []
    expires_at = now + timedelta(minutes=hold_minutes())
    for entry in live:
        if not free:
            break
        if entry.patient.phone in opted_out:
            continue
        contact = safe_contact(entry.patient)
        if not contact.may_text or contact.is_quiet(now):
            continue  # an offer is a text held for minutes: skip them now, keep their place
        own = [
            (s, e)
            for visit, s, e in busy.get(entry.patient_id, ())
            if visit != entry.appointment_id
        ]
        place = _first_wanted(entry, free, tried, own, service.duration)
        if place is None:
            continue
        busy.setdefault(entry.patient_id, []).append((None, place, place + service.duration))
        offer = WaitlistOffer(
            entry=entry,
            provider_id=service.provider_id,
            service=service,
            start=place,
            blocked_start=place - service.buffer_before,
            blocked_end=place + service.duration + service.buffer_after,
            expires_at=expires_at,
            created_at=now,
        )
        made.append(offer)
        _take(free, place, service)
    if made:
        WaitlistOffer.objects.bulk_create(made)
        WaitlistEntry.objects.filter(pk__in=[o.entry_id for o in made]).update(
            status=WaitlistStatus.OFFERED, updated_at=now
        )
    return made


def _wanted_until(entry: WaitlistEntry) -> datetime:
    """Just past the latest start this entry would take."""
    if entry.session_start is not None:
        return entry.session_start + _US
    assert entry.before is not None  # the check constraint: one of the two
    return entry.before


Busy = dict[int, list[tuple[Any, datetime, datetime]]]


def _busy_times(entries: list[WaitlistEntry], now: datetime, until: datetime) -> Busy:
    """Each waiting person's own active visits and held places before `until`, keyed by
    patient: (visit id or None, start, end). An offer never clashes with them."""
    patients = {e.patient_id for e in entries}
    busy: Busy = {}
    visits = Appointment.objects.filter(
        patient_id__in=patients, status__in=ACTIVE_STATUSES, start__lt=until, end__gt=now
    ).values_list("patient_id", "id", "start", "end")
    for patient_id, visit_id, start, end in visits:
        busy.setdefault(patient_id, []).append((visit_id, start, end))
    held = WaitlistOffer.objects.filter(
        entry__patient_id__in=patients, status=OfferStatus.HELD, start__lt=until
    ).values_list("entry__patient_id", "start", "service__duration_minutes")
    for patient_id, start, minutes in held:
        busy.setdefault(patient_id, []).append((None, start, start + timedelta(minutes=minutes)))
    return busy


def _first_wanted(
    entry: WaitlistEntry,
    free: dict[datetime, int],
    tried: set[tuple[Any, datetime]],
    own: list[tuple[datetime, datetime]],
    duration: timedelta,
) -> datetime | None:
    """The first place this entry wants, was never offered, and the person is free for."""

    def fits(start: datetime) -> bool:
        return (entry.pk, start) not in tried and not any(
            s < start + duration and e > start for s, e in own
        )

    if entry.session_start is not None:
        start = entry.session_start
        return start if free.get(start, 0) > 0 and fits(start) else None
    for start in sorted(free):
        if entry.before is not None and start >= entry.before:
            return None
        if free[start] > 0 and fits(start):
            return start
    return None


def _take(free: dict[datetime, int], place: datetime, service: Service) -> None:
    """Count the offered place as taken: a seat of a group, else every overlapping start."""
    if service.is_group:
        free[place] -= 1
        if free[place] <= 0:
            del free[place]
        return
    blocked = (place - service.buffer_before, place + service.duration + service.buffer_after)
    for start in [s for s in free if s - service.buffer_before < blocked[1]]:
        if start + service.duration + service.buffer_after > blocked[0]:
            del free[start]


def expire_offers(*, now: datetime | None = None, limit: int = 1000) -> set[int]:
    """End holds past their time (an answer being taken right now is skipped, not waited
    for); their entries wait in line again. Returns the providers whose places came free."""
    now = now or timezone.now()
    with transaction.atomic():
        lapsed = list(
            WaitlistOffer.objects.select_for_update(skip_locked=True)
            .filter(status=OfferStatus.HELD, expires_at__lte=now)
            .only("pk", "entry_id", "provider_id")
            .order_by("expires_at")[:limit]
        )
        if not lapsed:
            return set()
        WaitlistOffer.objects.filter(pk__in=[o.pk for o in lapsed]).update(
            status=OfferStatus.EXPIRED
        )
        WaitlistEntry.objects.filter(
            pk__in=[o.entry_id for o in lapsed], status=WaitlistStatus.OFFERED
        ).update(status=WaitlistStatus.WAITING, updated_at=now)
    return {o.provider_id for o in lapsed}


def sweep(*, now: datetime | None = None) -> int:
    """The scheduled run: end lapsed holds, then offer whatever is free (a cancellation
    missed, hours a provider added) to whoever waits. Returns the number of offers made."""
    now = now or timezone.now()
    providers = expire_offers(now=now)
    providers |= set(
        WaitlistEntry.objects.filter(status=WaitlistStatus.WAITING)
        .values_list("provider_id", flat=True)
        .distinct()
    )
    return sum(len(offer_places(provider_id=pk, now=now)) for pk in sorted(providers))
