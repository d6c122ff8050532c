"""Recurring series: book every visit of a weekly rule at once; cancel or move from a visit on.

Each visit is an ordinary Appointment built and checked as a single booking is
(scheduling.booking.services: the same admission checks, reach, offered slots; on
PostgreSQL the same exclusion constraint), all in one transaction. The offered slots of
the whole span are read once, and the visits are inserted in one statement: a series of
16 costs about what one booking does. If a concurrent booking takes one of the dates
between the read and the insert, the constraint refuses the insert, the savepoint is
rolled back and the dates are read again (the other transaction has committed by then).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from common.errors import DomainError
from common.events import Actor
from common.timezones import get_zone
from common.tokens import derive_token, hash_token, new_salt
from scheduling.availability.selectors import offered_slots
from scheduling.booking import messages, observers
from scheduling.booking.links import SERIES_PURPOSE
from scheduling.booking.models import EVERY_WEEKS_CHOICES, MAX_COUNT, MIN_COUNT
from scheduling.booking.patients import PatientDetails, admit_patient
from scheduling.booking.recurrence import rule_starts
from scheduling.booking.series_messages import (
    record_series_booked,
    record_series_cancelled,
    record_series_moved,
)
from scheduling.booking.services import (
    OVERLAP_CONSTRAINT,
    _require_aware,
    _within_reach,
    cancel_appointment,
    new_appointment,
    reschedule_appointment,
)
from scheduling.booking.webhooks import publish_appointment_events
from scheduling.models import (
    ACTIVE_STATUSES,
    Appointment,
    AppointmentEvent,
    AppointmentEventKind,
    Patient,
    Series,
    Service,
)

_ATTEMPTS = 3
_US = timedelta(microseconds=1)


@dataclass(frozen=True)
class SeriesBooking:
    series: Series
    appointments: list[Appointment]
    skipped: list[datetime]


def series_conflict(taken: list[datetime]) -> DomainError:
    return DomainError(
        "series_conflict",
        "Some dates of the series are no longer available.",
        status=409,
        fields={"conflicts": [t.isoformat() for t in taken]},
    )


def check_rule(service: Service, every_weeks: int, count: int) -> None:
    """A series of this service with this rule may be booked at all (else 400)."""
    if not service.series_max_weeks or service.is_group or service.requires_approval:
        raise DomainError(
            "series_not_offered",
            "This service is booked one visit at a time.",
            fields={"repeat": ["This service cannot be booked as a series."]},
        )
    if every_weeks not in EVERY_WEEKS_CHOICES or not MIN_COUNT <= count <= MAX_COUNT:
        raise DomainError(
            "invalid",
            f"A series repeats every 1 or 2 weeks, {MIN_COUNT} to {MAX_COUNT} visits.",
            fields={"repeat": ["every_weeks is 1 or 2; count is 2 to 26."]},
        )
    if (count - 1) * every_weeks + 1 > service.series_max_weeks:
        raise DomainError(
            "invalid",
            f"This service books series of at most {service.series_max_weeks} weeks.",
            fields={"repeat": [f"At most {service.series_max_weeks} weeks."]},
        )


def _free_and_taken(
    service: Service, starts: list[datetime], now: datetime
) -> tuple[list[datetime], list[datetime]]:
    """The rule's starts a single booking could take now, and the rest (in order)."""
    reachable: list[datetime] = []
    for start in starts:
        try:
            reachable.append(_within_reach(service, start, now))
        except DomainError:
            continue
    offered: set[datetime] = set()
    if reachable:
        spans = offered_slots(service, start=reachable[0], end=reachable[-1] + _US, now=now)
        offered = {a for a, _ in spans}
    free = [s for s in reachable if s in offered]
    return free, [s for s in starts if s not in offered]


def preview_dates(
    *, service: Service, start: datetime, every_weeks: int, count: int, now: datetime | None = None
) -> list[tuple[datetime, bool]]:
    """Each date the rule gives, and whether it is free now (the booking page shows them)."""
    check_rule(service, every_weeks, count)
    starts = rule_starts(start, get_zone(service.provider.timezone), every_weeks, count)
    free, _ = _free_and_taken(service, starts, now or timezone.now())
    return [(s, s in free) for s in starts]


def _insert(
    series: Series, service: Service, patient: Patient, starts: list[datetime]
) -> list[Appointment]:
    appointments: list[Appointment] = []
    for start in starts:
        appointment = new_appointment(service=service, patient=patient, start=start)
        appointment.series, appointment.series_start = series, appointment.start
        # One room for the series: its calendar entry carries one video link for every visit.
        appointment.video_room = (
            appointments[0].video_room if appointments else appointment.video_room
        )
        appointments.append(appointment)
    try:
        with transaction.atomic():  # a savepoint: a refused insert leaves the series open
            Appointment.objects.bulk_create(appointments)
    except IntegrityError as exc:
        if OVERLAP_CONSTRAINT not in str(exc):
            raise
        return []
    return appointments


@transaction.atomic
def book_series(
    *,
    service: Service,
    start: datetime,
    every_weeks: int,
    count: int,
    on_conflict: str = "fail",
    patient: PatientDetails,
    sms_consent: bool,
    possession: bool,
    referral_token: str | None = None,
    consent_source: str = "booking",
    actor: str = Actor.PATIENT,
    actor_user: Any = None,
    now: datetime | None = None,
) -> SeriesBooking:
    """Book `count` visits every `every_weeks` weeks from `start`, at the provider's wall clock.

    `on_conflict="fail"` refuses the whole series (409 series_conflict, the taken starts in
    fields.conflicts); `"skip"` books what is free and lists the rest.
    """
    _require_aware(start)
    now = now or timezone.now()
    check_rule(service, every_weeks, count)
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
    starts = rule_starts(start, get_zone(service.provider.timezone), every_weeks, count)
    if starts[0] != start:
        # The second 01:30 of a fall-back night: a rule in the provider's zone can only name
        # the first one (RFC 5545 3.3.5), so every calendar would show the first visit an hour early.
        raise DomainError(
            "invalid",
            "A series cannot start in the hour that repeats when clocks go back.",
            fields={"start": ["Choose another first time."]},
        )
    salt = new_salt()
    series = Series(
        provider=service.provider,
        service=service,
        patient=person,
        first_start=starts[0],
        every_weeks=every_weeks,
        count=count,
        manage_token_salt=salt,
    )
    series.manage_token_hash = hash_token(derive_token(SERIES_PURPOSE, series.id, salt))
    series.save(force_insert=True)
    appointments: list[Appointment] = []
    taken: list[datetime] = []
    for _ in range(_ATTEMPTS):
        free, taken = _free_and_taken(service, starts, now)
        if not free or (taken and on_conflict != "skip"):
            raise series_conflict(taken)
        appointments = _insert(series, service, person, free)
        if appointments:
            break
    else:
        raise series_conflict(taken)
    if taken:
        series.skipped = [t.isoformat() for t in taken]
        series.save(update_fields=["skipped"])
    events = AppointmentEvent.objects.bulk_create(
        AppointmentEvent(
            appointment=a,
            at=now,
            actor=actor,
            actor_user=actor_user if getattr(actor_user, "pk", None) else None,
            kind=AppointmentEventKind.BOOKED,
            from_status="",
            to_status=a.status,
            data={"start": a.start.isoformat(), "series": str(series.id)},
        )
        for a in appointments
    )
    publish_appointment_events(changes=list(zip(appointments, events, strict=True)))
    for index, (appointment, event) in enumerate(zip(appointments, events, strict=True)):
        token = referral_token if index == 0 else None  # a referral follows the first visit
        observers.appointment_changed(appointment=appointment, event=event, referral_token=token)
    record_series_booked(series=series, appointments=appointments, now=now)
    return SeriesBooking(series=series, appointments=appointments, skipped=taken)


def _occurrences(series: Series) -> list[Appointment]:
    return list(
        Appointment.objects.filter(series=series)
        .select_related("provider", "service", "patient")
        .order_by("start")
    )


def _locked_series(series: Series) -> Series:
    return (
        Series.objects.select_for_update()
        .select_related("provider", "service", "patient")
        .get(pk=series.pk)
    )


def _from_on(series: Series, start: datetime, now: datetime, verb: str) -> list[Appointment]:
    """The visits still to come from the one at `start` on (400 if `start` is no visit)."""
    visits = _occurrences(series)
    if not any(start in (v.start, v.series_start) for v in visits):
        raise DomainError(
            "invalid",
            "from must be the start of a visit of this series.",
            fields={"from": ["Not a visit of this series."]},
        )
    targets = [
        v for v in visits if v.start >= start and v.start > now and v.status in ACTIVE_STATUSES
    ]
    if not targets:
        raise DomainError("invalid_transition", f"Nothing left to {verb} from there.", status=409)
    return targets


@transaction.atomic
def cancel_series_from(
    *,
    series: Series,
    start: datetime,
    actor: str,
    actor_user: Any = None,
    reason: str = "",
    now: datetime | None = None,
) -> list[Appointment]:
    """Cancel the visit at `start` and every later one of the series, with one message."""
    _require_aware(start)
    now = now or timezone.now()
    series = _locked_series(series)
    targets = _from_on(series, start, now, "cancel")
    with messages.one_message_for_series():
        cancelled = [
            cancel_appointment(
                appointment=v, actor=actor, actor_user=actor_user, reason=reason, now=now
            )
            for v in targets
        ]
    series.refresh_from_db(fields=["sequence"])  # each cancellation raised it
    record_series_cancelled(
        series=series, appointments=_occurrences(series), cancelled=cancelled, now=now
    )
    return cancelled


@transaction.atomic
def move_series_from(
    *,
    series: Series,
    start: datetime,
    to: datetime,
    actor: str,
    actor_user: Any = None,
    now: datetime | None = None,
) -> list[Appointment]:
    """Move the visit at `start` to `to`, and every later one to the same weekday and wall
    clock (the provider's) as many weeks on; all or nothing (409 series_conflict listing the
    taken times), one message. Each moved visit becomes an exception of the rule."""
    _require_aware(start)
    _require_aware(to)
    now = now or timezone.now()
    series = _locked_series(series)
    targets = _from_on(series, start, now, "move")
    zone = get_zone(series.provider.timezone)
    base = targets[0].series_start or targets[0].start
    wall = to.astimezone(zone).replace(tzinfo=None)
    moved: list[Appointment] = []
    taken: list[datetime] = []
    with messages.one_message_for_series():
        for visit in targets:
            weeks = round(((visit.series_start or visit.start) - base) / timedelta(weeks=1))
            new_start = (wall + timedelta(weeks=weeks)).replace(tzinfo=zone, fold=0)
            try:  # a savepoint of its own (the service is atomic): a refusal is collected
                moved.append(
                    reschedule_appointment(
                        appointment=visit,
                        start=new_start,
                        actor=actor,
                        actor_user=actor_user,
                        now=now,
                    )
                )
            except DomainError as error:
                if error.code != "slot_unavailable":
                    raise
                taken.append(new_start.astimezone(UTC))
    if taken:
        raise series_conflict(taken)  # the whole transaction rolls back
    series.refresh_from_db(fields=["sequence"])  # each move raised it
    record_series_moved(series=series, appointments=_occurrences(series), moved=moved, now=now)
    return moved
