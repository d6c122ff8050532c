"""The appointment lifecycle: book, reschedule, cancel, confirm, record attendance.

Each service is one transaction that writes one AppointmentEvent, bumps the iCalendar
SEQUENCE whenever the time or the status changes, records the notifications the change
causes (scheduling.messages) and tells the observers (scheduling.observers) before commit.

No double booking: on PostgreSQL the exclusion constraint `appointment_no_overlap` refuses
an overlapping active appointment (we turn the refusal into 409 `slot_unavailable`); seats
of a group session are counted under a row lock on the Service row, which always exists.
On SQLite the IMMEDIATE transaction serializes writers and the overlap is re-checked inside it.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone
from django.utils.crypto import salted_hmac

from common.errors import DomainError
from common.tokens import derive_token, hash_token, new_salt
from scheduling import availability, observers
from scheduling.messages import record_appointment_notifications
from scheduling.models import (
    ACTIVE_STATUSES,
    Actor,
    Appointment,
    AppointmentEvent,
    AppointmentStatus,
    Provider,
    ProviderLicense,
    Service,
)
from scheduling.patients import PatientDetails, find_or_create_patient, validate_details

S = AppointmentStatus

# Every legal status change. Attended and no-show may be corrected into each other.
TRANSITIONS: dict[str, frozenset[str]] = {
    S.REQUESTED: frozenset({S.CONFIRMED, S.CANCELLED}),
    S.CONFIRMED: frozenset({S.CANCELLED, S.ATTENDED, S.NO_SHOW}),
    S.ATTENDED: frozenset({S.NO_SHOW}),
    S.NO_SHOW: frozenset({S.ATTENDED}),
    S.CANCELLED: frozenset(),
}

OVERLAP_CONSTRAINT = "appointment_no_overlap"
STAFF_ACTORS = frozenset({Actor.PROVIDER, Actor.STAFF, Actor.SYSTEM})


class EventKind:
    BOOKED = "booked"
    CONFIRMED = "confirmed"
    PATIENT_CONFIRMED = "patient_confirmed"
    RESCHEDULED = "rescheduled"
    CANCELLED = "cancelled"
    ATTENDED = "attended"
    NO_SHOW = "no_show"


def invalid_transition(detail: str) -> DomainError:
    return DomainError("invalid_transition", detail, status=409)


def slot_unavailable(detail: str = "That time is no longer available.") -> DomainError:
    return DomainError("slot_unavailable", detail, status=409, fields={"start": [detail]})


def check_transition(appointment: Appointment, to_status: str) -> None:
    """Raise 409 invalid_transition unless the table allows moving to `to_status`."""
    if to_status not in TRANSITIONS.get(appointment.status, frozenset()):
        raise invalid_transition(
            f"A {appointment.get_status_display().lower()} appointment cannot become {to_status}."
        )


def transition_to(appointment: Appointment, to_status: str) -> str:
    """The one way a status changes: check the table, set it, bump SEQUENCE; return the old one."""
    check_transition(appointment, to_status)
    from_status = appointment.status
    appointment.status = to_status
    appointment.sequence += 1
    return from_status


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


def _hold_seat(appointment: Appointment, service: Service) -> None:
    """For a group session: lock the Service row, then count the taken seats."""
    Service.objects.select_for_update().filter(pk=service.pk).values_list("pk").first()
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
    event = AppointmentEvent.objects.create(
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
    record_appointment_notifications(appointment=appointment, event=event)
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


def get_bookable_service(
    *, provider_slug: str, service_slug: str, state: str | None = None
) -> Service:
    """The active service `service_slug` of provider `provider_slug` (400 unknown_* otherwise).

    With `state`, whether the provider is licensed there comes along in the same query.
    """
    services = Service.objects.select_related("provider").filter(
        provider__slug=provider_slug, slug=service_slug, is_active=True
    )
    code = state.upper() if isinstance(state, str) else None
    if code:
        services = services.annotate(
            licensed_here=Exists(
                ProviderLicense.objects.filter(provider_id=OuterRef("provider_id"), state=code)
            )
        )
    service = services.first()
    if service is not None:
        if code:
            service._licensed_for = (code, service.licensed_here)  # type: ignore[attr-defined]
        return service
    if not Provider.objects.filter(slug=provider_slug).exists():
        raise DomainError(
            "unknown_provider",
            f"No provider {provider_slug!r}.",
            fields={"provider": ["Unknown provider."]},
        )
    raise DomainError(
        "unknown_service",
        f"Provider {provider_slug!r} offers no service {service_slug!r}.",
        fields={"service": ["Unknown service."]},
    )


def _is_licensed(service: Service, state: str) -> bool:
    known = getattr(service, "_licensed_for", None)
    if known is not None and known[0] == state:
        return bool(known[1])
    return service.provider.licenses.filter(state=state).exists()


@transaction.atomic
def book_appointment(
    *,
    service: Service,
    start: datetime,
    patient: PatientDetails,
    sms_consent: bool,
    referral_token: str | None = None,
    consent_source: str = "booking",
    actor: str = Actor.PATIENT,
    actor_user: Any = None,
    now: datetime | None = None,
) -> Appointment:
    """Book `start` of `service` for the patient (found or created by phone)."""
    _require_aware(start)
    now = now or timezone.now()
    provider = service.provider
    details = validate_details(patient)
    if not service.is_active:
        raise DomainError("unknown_service", "This service is not offered.", fields={})
    if not _is_licensed(service, details.state):
        raise DomainError(
            "not_licensed_in_state",
            f"This provider cannot see patients located in {details.state}.",
            fields={"patient": {"state": ["The provider is not licensed in this state."]}},
        )
    referral_checked = False
    if referral_token:
        referral_checked = observers.check_booking(
            referral_token=referral_token, provider=provider, service=service
        )
    if not provider.accepting_new_patients and not referral_checked:
        known = Appointment.objects.filter(provider=provider, patient__phone=details.phone)
        if not known.exists():
            raise DomainError(
                "not_accepting_new_patients",
                "This provider is not accepting new patients.",
                status=409,
            )
    person = find_or_create_patient(
        details=details, sms_consent=sms_consent, consent_source=consent_source, now=now
    )

    appointment_id = uuid.uuid4()
    salt = new_salt()
    appointment = Appointment(
        id=appointment_id,
        provider=provider,
        service=service,
        patient=person,
        status=S.REQUESTED if service.requires_approval else S.CONFIRMED,
        modality="video",
        manage_token_salt=salt,
        manage_token_hash=hash_token(derive_token("manage", appointment_id, salt)),
    )
    _place(appointment, service, _within_reach(service, start, now))
    appointment.video_room = video_room_for(appointment.session_key)
    if service.is_group:
        _hold_seat(appointment, service)
    _require_offered(service, appointment.start, now)
    _check_overlap_in_transaction(appointment)
    _save_guarded(appointment, force_insert=True)
    _record(
        appointment,
        kind=EventKind.BOOKED,
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
        raise invalid_transition("Only a requested or confirmed appointment can be moved.")
    if appointment.is_past(now):
        raise invalid_transition("An appointment that has started cannot be moved.")
    service = appointment.service
    old_start = appointment.start
    _place(appointment, service, _within_reach(service, start, now))
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
        kind=EventKind.RESCHEDULED,
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
    check_transition(appointment, S.CANCELLED)
    if appointment.is_past(now):
        raise invalid_transition("An appointment that has started cannot be cancelled.")
    from_status = transition_to(appointment, S.CANCELLED)
    appointment.cancel_reason = (reason or "")[:500]
    appointment.cancelled_late = appointment.start - now < timedelta(
        hours=appointment.service.late_cancel_hours
    )
    appointment.save(
        update_fields=["status", "cancel_reason", "cancelled_late", "sequence", "updated_at"]
    )
    _record(
        appointment,
        kind=EventKind.CANCELLED,
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
        raise invalid_transition("An appointment that has started cannot be confirmed.")
    from_status = appointment.status
    if actor == Actor.PATIENT:
        # The patient says they will come; only the provider can approve a request.
        if not appointment.is_active:
            raise invalid_transition(
                f"A {appointment.get_status_display().lower()} appointment cannot be confirmed."
            )
        kind = EventKind.PATIENT_CONFIRMED
    else:
        transition_to(appointment, S.CONFIRMED)
        appointment.save(update_fields=["status", "sequence", "updated_at"])
        kind = EventKind.CONFIRMED
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
    check_transition(appointment, status)
    if not appointment.is_past(now):
        raise invalid_transition("Attendance can be recorded only after the start.")
    from_status = transition_to(appointment, status)
    appointment.save(update_fields=["status", "sequence", "updated_at"])
    _record(
        appointment,
        kind=EventKind.ATTENDED if status == S.ATTENDED else EventKind.NO_SHOW,
        actor=actor,
        actor_user=actor_user,
        from_status=from_status,
        now=now,
    )
    return appointment
