"""The appointment lifecycle: book, reschedule, cancel, confirm, record attendance.

Each service is one transaction that writes one AppointmentEvent, bumps the iCalendar
SEQUENCE whenever the time or the status changes, records the notifications the change
causes (scheduling.booking.messages) and tells the observers (scheduling.booking.observers) before commit.

No double booking: on PostgreSQL the exclusion constraint `appointment_no_overlap` refuses
an overlapping active appointment (we turn the refusal into 409 `slot_unavailable`); seats
of a group session are counted under a row lock on the Provider row, which always exists.
Every booking and move takes that lock, as waitlist offers do: a held offer is busy time
(or a seat) the constraint does not see, so offers and bookings must serialize.
On SQLite the IMMEDIATE transaction serializes writers and the overlap is re-checked inside it.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F, Q
from django.utils import timezone
from django.utils.crypto import salted_hmac

from common import sql
from common.errors import DomainError, InvalidTransition
from common.events import Actor
from common.tokens import derive_token, hash_token, new_salt
from scheduling.availability import selectors as availability
from scheduling.booking import observers
from scheduling.booking.messages import record_appointment_notifications
from scheduling.booking.patients import PatientDetails, admit_patient
from scheduling.booking.webhooks import publish_appointment_event
from scheduling.models import (
    ACTIVE_STATUSES,
    Appointment,
    AppointmentEvent,
    AppointmentEventKind,
    AppointmentStatus,
    Patient,
    Provider,
    Series,
    Service,
)

S = AppointmentStatus
Kind = AppointmentEventKind

OVERLAP_CONSTRAINT = "appointment_no_overlap"
STAFF_ACTORS = frozenset({Actor.PROVIDER, Actor.STAFF, Actor.SYSTEM})


def slot_unavailable(detail: str = "That time is no longer available.") -> DomainError:
    return DomainError("slot_unavailable", detail, status=409, fields={"start": [detail]})


def _require_aware(start: datetime) -> None:
    if not isinstance(start, datetime) or timezone.is_naive(start):
        raise DomainError(
            "invalid", "start must be a date and time with a UTC offset.", fields={"start": []}
        )


def session_key_for(service: Service, start: datetime) -> str:
    """The key seats of one group session share; a fresh one for any other booking.

    Public so the demo seeder writes the same format instead of a copy of it."""
    if service.is_group:
        return f"group:{service.pk}:{start.isoformat()}"
    return str(uuid.uuid4())


def video_room_for(session_key: str) -> str:
    # Seats of one group session meet in one room: derive it, unguessably, from the session.
    if session_key.startswith("group:"):
        return salted_hmac("bridgeway.group-room", session_key).hexdigest()[:32]
    return secrets.token_urlsafe(16)


def _place(appointment: Appointment, service: Service, start: datetime) -> None:
    start = start.astimezone(UTC)
    appointment.start = start
    appointment.end = start + service.duration
    appointment.blocked_start = start - service.buffer_before
    appointment.blocked_end = appointment.end + service.buffer_after
    appointment.session_key = session_key_for(service, start)


def _lock_provider_times(service: Service) -> None:
    """Lock the Provider row: the lock waitlist offers are made under (offer_places), so a
    booking and an offer of the same time serialize and the second sees the first's row
    (an offer is no appointment, so the exclusion constraint cannot refuse the pair).
    Taken before the Service row, in the order offer_places and the directory writer use."""
    Provider.objects.select_for_update().filter(pk=service.provider_id).values_list("pk").first()


def _hold_seat(appointment: Appointment, service: Service) -> None:
    """For a group session: count the taken seats (under the Provider row's lock)."""
    seats = (
        Appointment.objects.filter(session_key=appointment.session_key, status__in=ACTIVE_STATUSES)
        .exclude(pk=appointment.pk)
        .aggregate(taken=Count("pk"), mine=Count("pk", filter=Q(patient_id=appointment.patient_id)))
    )
    if seats["mine"]:
        raise DomainError("already_booked", "You already have a seat in this session.", status=409)
    if seats["taken"] >= service.capacity:
        raise slot_unavailable("This session is full.")


def _check_overlap_in_transaction(appointment: Appointment) -> None:
    """Where no exclusion constraint exists (SQLite), look for overlaps under the write lock."""
    if connection.vendor == "postgresql":
        return  # the constraint decides, atomically
    clash = (
        Appointment.objects.filter(
            provider_id=appointment.provider_id,
            status__in=ACTIVE_STATUSES,
            blocked_start__lt=appointment.blocked_end,
            blocked_end__gt=appointment.blocked_start,
        )
        .exclude(session_key=appointment.session_key)
        .exclude(pk=appointment.pk)
        .exists()
    )
    if clash:
        raise slot_unavailable()


def _save_guarded(appointment: Appointment, **kwargs: Any) -> None:
    """Save; the database's refusal of an overlap becomes 409 slot_unavailable.

    No savepoint of its own: every caller is a service under @transaction.atomic, which is
    the savepoint when nested in a caller's transaction and the whole transaction otherwise,
    and the DomainError leaves it at once, so the aborted transaction is rolled back.
    """
    try:
        if kwargs.get("force_insert"):
            sql.insert([appointment])  # save()'s INSERT without the ORM's CPU cost
        else:
            appointment.save(**kwargs)
    except IntegrityError as exc:
        diag = getattr(exc.__cause__, "diag", None)
        name = getattr(diag, "constraint_name", None) or ""
        if name == OVERLAP_CONSTRAINT or OVERLAP_CONSTRAINT in str(exc):
            raise slot_unavailable() from None
        raise


def _within_reach(service: Service, start: datetime, now: datetime) -> datetime:
    """The start in UTC, if it lies between now and the booking horizon; else 409.

    Checked before any arithmetic on it, so year 1 or 9999 is a refusal, not an overflow.
    """
    try:
        start = start.astimezone(UTC)
    except OverflowError:
        raise slot_unavailable("That time is not offered.") from None
    if start <= now:
        raise slot_unavailable("That time is in the past.")
    if start - now > timedelta(days=min(service.horizon_days, 3660) + 2):
        raise slot_unavailable("That time is beyond the booking horizon.")
    return start


def _require_offered(
    service: Service, start: datetime, now: datetime, exclude: uuid.UUID | None = None
) -> None:
    if not availability.is_offered(service, start, now=now, exclude_appointment_id=exclude):
        raise slot_unavailable()


def _record(
    appointment: Appointment,
    *,
    kind: str,
    actor: str,
    actor_user: Any,
    from_status: str,
    reason: str = "",
    data: dict[str, Any] | None = None,
    now: datetime,
    referral_token: str | None = None,
) -> AppointmentEvent:
    event = AppointmentEvent(
        appointment=appointment,
        at=now,
        actor=actor,
        actor_user=actor_user if getattr(actor_user, "pk", None) else None,
        kind=kind,
        from_status=from_status,
        to_status=appointment.status,
        reason=reason,
        data=data or {},
    )
    sql.insert([event])
    if appointment.series_id is not None and kind != Kind.PATIENT_CONFIRMED:
        Series.objects.filter(pk=appointment.series_id).update(sequence=F("sequence") + 1)
    record_appointment_notifications(appointment=appointment, event=event)
    publish_appointment_event(appointment=appointment, event=event)
    observers.appointment_changed(
        appointment=appointment, event=event, referral_token=referral_token
    )
    return event


def _locked(appointment: Appointment) -> Appointment:
    """Re-read the appointment under a row lock, so two changes of one visit serialize."""
    return (
        Appointment.objects.select_for_update(of=("self",))
        .select_related("provider", "service", "patient")
        .get(pk=appointment.pk)
    )


def new_appointment(*, service: Service, patient: Patient, start: datetime) -> Appointment:
    """An unsaved appointment of `service` at `start`, with its own manage token and room."""
    appointment_id = uuid.uuid4()
    salt = new_salt()
    appointment = Appointment(
        id=appointment_id,
        provider=service.provider,
        service=service,
        patient=patient,
        status=S.REQUESTED if service.requires_approval else S.CONFIRMED,
        modality="video",
        manage_token_salt=salt,
        manage_token_hash=hash_token(derive_token("manage", appointment_id, salt)),
    )
    _place(appointment, service, start)
    appointment.video_room = video_room_for(appointment.session_key)
    return appointment


@transaction.atomic
def book_appointment(
    *,
    service: Service,
    start: datetime,
    patient: PatientDetails,
    sms_consent: bool,
    possession: bool,
    referral_token: str | None = None,
    consent_source: str = "booking",
    actor: str = Actor.PATIENT,
    actor_user: Any = None,
    now: datetime | None = None,
) -> Appointment:
    """Book `start` of `service` for the patient (found or created by phone; see admit_patient)."""
    _require_aware(start)
    now = now or timezone.now()
    person = admit_patient(
        service=service,
        patient=patient,
        sms_consent=sms_consent,
        possession=possession,
        referral_token=referral_token,
        consent_source=consent_source,
        actor=actor,
        actor_user=actor_user,
        now=now,
    )
    start = _within_reach(service, start, now)
    appointment = new_appointment(service=service, patient=person, start=start)
    _lock_provider_times(service)
    if service.is_group:
        _hold_seat(appointment, service)
    _require_offered(service, appointment.start, now)
    _check_overlap_in_transaction(appointment)
    _save_guarded(appointment, force_insert=True)
    _record(
        appointment,
        kind=Kind.BOOKED,
        actor=actor,
        actor_user=actor_user,
        from_status="",
        now=now,
        referral_token=referral_token or None,
        data={"start": appointment.start.isoformat()},
    )
    return appointment


@transaction.atomic
def reschedule_appointment(
    *,
    appointment: Appointment,
    start: datetime,
    actor: str,
    actor_user: Any = None,
    now: datetime | None = None,
) -> Appointment:
    """Move the appointment to `start`; the new time is held before the old is released."""
    _require_aware(start)
    now = now or timezone.now()
    appointment = _locked(appointment)
    if not appointment.is_active:
        raise InvalidTransition("Only a requested or confirmed appointment can be moved.")
    if appointment.is_past(now):
        raise InvalidTransition("An appointment that has started cannot be moved.")
    service = appointment.service
    old_start = appointment.start
    _place(appointment, service, _within_reach(service, start, now))
    _lock_provider_times(service)
    if service.is_group:
        appointment.video_room = video_room_for(appointment.session_key)
        _hold_seat(appointment, service)
    _require_offered(service, appointment.start, now, exclude=appointment.pk)
    _check_overlap_in_transaction(appointment)
    appointment.sequence += 1
    # One UPDATE swaps old time for new: the constraint sees only the new interval.
    _save_guarded(appointment)
    _record(
        appointment,
        kind=Kind.RESCHEDULED,
        actor=actor,
        actor_user=actor_user,
        from_status=appointment.status,
        now=now,
        data={"from": old_start.isoformat(), "to": appointment.start.isoformat()},
    )
    return appointment


@transaction.atomic
def cancel_appointment(
    *,
    appointment: Appointment,
    actor: str,
    actor_user: Any = None,
    reason: str = "",
    now: datetime | None = None,
) -> Appointment:
    """Cancel before the start; the slot frees at once. Late cancellations are flagged."""
    now = now or timezone.now()
    appointment = _locked(appointment)
    appointment.check_transition(S.CANCELLED)
    if appointment.is_past(now):
        raise InvalidTransition("An appointment that has started cannot be cancelled.")
    from_status = appointment.transition_to(S.CANCELLED)
    appointment.cancel_reason = (reason or "")[:500]
    appointment.cancelled_late = appointment.start - now < timedelta(
        hours=appointment.service.late_cancel_hours
    )
    appointment.save(
        update_fields=["status", "cancel_reason", "cancelled_late", "sequence", "updated_at"]
    )
    _record(
        appointment,
        kind=Kind.CANCELLED,
        actor=actor,
        actor_user=actor_user,
        from_status=from_status,
        reason=appointment.cancel_reason,
        now=now,
        data={"late": appointment.cancelled_late},
    )
    return appointment


@transaction.atomic
def confirm_appointment(
    *,
    appointment: Appointment,
    actor: str,
    actor_user: Any = None,
    now: datetime | None = None,
) -> Appointment:
    """A provider or staff approves a requested visit; a patient's confirmation ("C") is logged."""
    now = now or timezone.now()
    appointment = _locked(appointment)
    if appointment.is_past(now) and appointment.is_active:
        raise InvalidTransition("An appointment that has started cannot be confirmed.")
    from_status = appointment.status
    if actor == Actor.PATIENT:
        # The patient says they will come; only the provider can approve a request.
        if not appointment.is_active:
            raise InvalidTransition(
                f"A {appointment.get_status_display().lower()} appointment cannot be confirmed."
            )
        kind = Kind.PATIENT_CONFIRMED
    else:
        appointment.transition_to(S.CONFIRMED)
        appointment.save(update_fields=["status", "sequence", "updated_at"])
        kind = Kind.CONFIRMED
    _record(
        appointment,
        kind=kind,
        actor=actor,
        actor_user=actor_user,
        from_status=from_status,
        now=now,
    )
    return appointment


@transaction.atomic
def record_attendance(
    *,
    appointment: Appointment,
    status: str,
    actor: str,
    actor_user: Any = None,
    now: datetime | None = None,
) -> Appointment:
    """A provider or staff marks a visit attended or no-show, once it has started."""
    if actor not in STAFF_ACTORS:
        raise DomainError(
            "permission_denied", "Only the provider or staff record attendance.", status=403
        )
    if status not in (S.ATTENDED, S.NO_SHOW):
        raise DomainError(
            "invalid", "status must be attended or no_show.", fields={"status": [status]}
        )
    now = now or timezone.now()
    appointment = _locked(appointment)
    appointment.check_transition(status)
    if not appointment.is_past(now):
        raise InvalidTransition("Attendance can be recorded only after the start.")
    from_status = appointment.transition_to(status)
    appointment.save(update_fields=["status", "sequence", "updated_at"])
    _record(
        appointment,
        kind=Kind.ATTENDED if status == S.ATTENDED else Kind.NO_SHOW,
        actor=actor,
        actor_user=actor_user,
        from_status=from_status,
        now=now,
    )
    return appointment
