"""Joining and leaving a waitlist, and taking an offered place.

Joining makes the same checks as a booking (scheduling.booking.patients.admit_patient:
licensure, proof of possession before anything depends on who holds the number, a
provider not taking new patients) and needs consent to texts, since offers are texts.
Taking an offer books through the usual booking service, or for an "earlier time" wish
with a visit, moves that visit (reschedule_appointment): same checks, same messages.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from common.errors import DomainError
from common.events import Actor
from scheduling.availability.selectors import offered_slots_with_seats
from scheduling.booking import observers
from scheduling.booking.patients import PatientDetails, admit_patient, details_of
from scheduling.booking.services import book_appointment, reschedule_appointment
from scheduling.booking.waitlist.links import new_token_fields
from scheduling.booking.waitlist.models import (
    OPEN_STATUSES,
    OfferStatus,
    WaitlistEntry,
    WaitlistOffer,
    WaitlistStatus,
)
from scheduling.booking.waitlist.offers import dispatch_on_commit
from scheduling.models import ACTIVE_STATUSES, Appointment, Patient, Service

_ONE_START = timedelta(microseconds=1)  # a slot query for exactly one start


def position_of(entry: WaitlistEntry) -> int | None:
    """1 for the next in line; None once the entry no longer waits."""
    if not entry.is_open:
        return None
    ahead = Q(priority__gt=entry.priority) | Q(
        priority=entry.priority, created_at__lt=entry.created_at
    )
    ahead |= Q(priority=entry.priority, created_at=entry.created_at, id__lt=entry.id)
    same = Q(session_start=entry.session_start) if entry.session_start else Q(before__isnull=False)
    waiting = WaitlistEntry.objects.filter(
        same, ahead, service_id=entry.service_id, status__in=OPEN_STATUSES
    )
    return waiting.count() + 1


def held_offer(entry: WaitlistEntry) -> WaitlistOffer | None:
    return (
        WaitlistOffer.objects.filter(entry=entry, status=OfferStatus.HELD)
        .order_by("-created_at")
        .first()
    )


def _session_is_full(service: Service, start: datetime, now: datetime) -> bool:
    """Whether `start` is a session of this group whose seats are all taken or held."""
    if offered_slots_with_seats(service, start=start, end=start + _ONE_START, now=now):
        raise DomainError(
            "seats_available", "This session has seats: book one instead.", status=409
        )
    taken = (
        Appointment.objects.filter(service=service, start=start, status__in=ACTIVE_STATUSES).count()
        + WaitlistOffer.objects.filter(
            service=service, start=start, status=OfferStatus.HELD
        ).count()
    )
    return taken >= service.capacity


@transaction.atomic
def join_waitlist(
    *,
    service: Service,
    patient: PatientDetails,
    sms_consent: bool,
    possession: bool,
    start: datetime | None = None,
    before: datetime | None = None,
    appointment: Appointment | None = None,
    referral_token: str | None = None,
    actor: str = Actor.PATIENT,
    actor_user: Any = None,
    now: datetime | None = None,
) -> tuple[WaitlistEntry, bool]:
    """Put the patient in line; returns (entry, created). Joining again returns the open entry."""
    now = now or timezone.now()
    if appointment is not None and before is None:
        before = appointment.start
    if (start is None) == (before is None):
        raise DomainError(
            "invalid",
            'Give either "start" (a seat in that session) or "before" (an earlier time).',
            fields={"start": ["start or before"], "before": ["start or before"]},
        )
    wanted = start or before
    assert wanted is not None
    if timezone.is_naive(wanted):
        raise DomainError("invalid", "Times need a UTC offset.", fields={"start": []})
    if wanted <= now:
        raise DomainError("slot_unavailable", "That time is in the past.", status=409)
    person = admit_patient(
        service=service,
        patient=patient,
        sms_consent=sms_consent,
        possession=possession,
        referral_token=referral_token,
        consent_source="waitlist",
        actor=actor,
        actor_user=actor_user,
        now=now,
    )
    if not sms_consent:
        raise DomainError(
            "sms_consent_required",
            "Places are offered by text: agree to texts to join the list.",
            fields={"sms_consent": ["Must be true to join a waitlist."]},
        )
    if start is not None:
        if not service.is_group:
            raise DomainError(
                "invalid",
                'Only a group session has seats to wait for; use "before" for an earlier time.',
                fields={"start": ["Not a group session."]},
            )
        if Appointment.objects.filter(
            service=service, start=start, patient=person, status__in=ACTIVE_STATUSES
        ).exists():
            raise DomainError(
                "already_booked", "You already have a seat in this session.", status=409
            )
        if not _session_is_full(service, start, now):
            raise DomainError("slot_unavailable", "That time is not offered.", status=409)
    if appointment is not None and appointment.patient_id != person.pk:
        appointment = None
    if appointment is None and before is not None:
        appointment = (
            Appointment.objects.filter(
                service=service, patient=person, status__in=ACTIVE_STATUSES, start__gte=before
            )
            .order_by("start")
            .first()
        )
    found = _open_entry(service, person, start)
    if found is not None:
        return found, False
    priority = observers.referral_priority(referral_token=referral_token) if referral_token else 0
    entry_id = uuid.uuid4()
    entry = WaitlistEntry(
        id=entry_id,
        provider_id=service.provider_id,
        service=service,
        patient=person,
        session_start=start,
        before=before if start is None else None,
        appointment=appointment,
        priority=priority,
        created_at=now,
        **new_token_fields(entry_id),
    )
    try:
        with transaction.atomic():
            entry.save(force_insert=True)
    except IntegrityError:  # the same wish joined concurrently: that entry is the one
        found = _open_entry(service, person, start)
        if found is None:
            raise
        return found, False
    # A place may be free already (a hold lapsed, hours were added): look now.
    dispatch_on_commit({service.provider_id})
    return entry, True


def _open_entry(service: Service, person: Patient, start: datetime | None) -> WaitlistEntry | None:
    entries = WaitlistEntry.objects.filter(
        service=service, patient=person, status__in=OPEN_STATUSES
    )
    if start is not None:
        return entries.filter(session_start=start).first()
    return entries.filter(before__isnull=False).first()


def _locked(entry: WaitlistEntry) -> WaitlistEntry:
    return (
        WaitlistEntry.objects.select_for_update(of=("self",))
        .select_related("provider", "service", "patient", "appointment")
        .get(pk=entry.pk)
    )


@transaction.atomic
def leave_waitlist(*, entry: WaitlistEntry, now: datetime | None = None) -> WaitlistEntry:
    """Leave the list; a place held for the entry goes to the next person."""
    now = now or timezone.now()
    entry = _locked(entry)
    if not entry.is_open:
        return entry
    entry.transition_to(WaitlistStatus.LEFT)
    entry.save(update_fields=["status", "updated_at"])
    released = WaitlistOffer.objects.filter(entry=entry, status=OfferStatus.HELD).update(
        status=OfferStatus.DECLINED, answered_at=now
    )
    if released:
        dispatch_on_commit({entry.provider_id})
    return entry


def leave_all(*, patient: Patient, now: datetime | None = None) -> int:
    """Every open entry of the patient leaves (a STOP to the offers' number)."""
    entries = list(WaitlistEntry.objects.filter(patient=patient, status__in=OPEN_STATUSES))
    for entry in entries:
        leave_waitlist(entry=entry, now=now)
    return len(entries)


@dataclass(frozen=True)
class Taken:
    """What answering an offer came to: the visit booked or moved, or None (too late)."""

    entry: WaitlistEntry
    offer: WaitlistOffer
    appointment: Appointment | None


@transaction.atomic
def accept_offer(*, offer: WaitlistOffer, now: datetime | None = None) -> Taken:
    """Take the held place: book it (or move the visit it replaces), at most once.

    The offer row is locked first, so a Y and the expiry sweep (which skips locked rows)
    and a second Y (which waits, then finds it taken) never both act on it.
    """
    now = now or timezone.now()
    offer = (
        WaitlistOffer.objects.select_for_update(of=("self",))
        .select_related("service__provider")
        .get(pk=offer.pk)
    )
    entry = _locked(offer.entry)
    if offer.status != OfferStatus.HELD:
        return Taken(entry, offer, None)
    if offer.expires_at <= now:
        _end_offer(offer, entry, OfferStatus.EXPIRED, now)
        return Taken(entry, offer, None)
    offer.status, offer.answered_at = OfferStatus.ACCEPTED, now
    offer.save(update_fields=["status", "answered_at"])  # no longer counted as held
    try:
        with transaction.atomic():
            appointment = _take_place(offer, entry, now)
    except DomainError:
        _end_offer(offer, entry, OfferStatus.LOST, now)
        return Taken(entry, offer, None)
    offer.appointment = appointment
    offer.save(update_fields=["appointment"])
    entry.transition_to(WaitlistStatus.BOOKED)
    entry.save(update_fields=["status", "updated_at"])
    return Taken(entry, offer, appointment)


def _end_offer(offer: WaitlistOffer, entry: WaitlistEntry, status: str, now: datetime) -> None:
    offer.status, offer.answered_at = status, now
    offer.save(update_fields=["status", "answered_at"])
    if entry.status == WaitlistStatus.OFFERED:
        entry.transition_to(WaitlistStatus.WAITING)
        entry.save(update_fields=["status", "updated_at"])
    dispatch_on_commit({entry.provider_id})


def _take_place(offer: WaitlistOffer, entry: WaitlistEntry, now: datetime) -> Appointment:
    visit = entry.appointment
    if visit is not None and visit.is_active and not visit.is_past(now):
        return reschedule_appointment(
            appointment=visit, start=offer.start, actor=Actor.PATIENT, now=now
        )
    return book_appointment(
        service=offer.service,
        start=offer.start,
        patient=details_of(entry.patient),
        sms_consent=entry.patient.sms_consent,
        # Joining proved possession of the phone; the offer was texted to it.
        possession=True,
        consent_source="waitlist",
        actor=Actor.PATIENT,
        now=now,
    )
