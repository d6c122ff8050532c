"""Erasing a patient: anonymize them everywhere, keep what providers' records and the audit
trail need (appointment times and statuses, who did what when), and send nothing more."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone

from common.events import Actor, signed_in
from notifications.models import Notification, NotificationStatus
from notifications.optouts import opt_in
from notifications.retention import forget_recipient
from scheduling.booking import observers
from scheduling.circle.models import ContactPreference, Disclosure, SupportPerson
from scheduling.models import (
    ACTIVE_STATUSES,
    Appointment,
    AppointmentEvent,
    AppointmentStatus,
    IdempotencyKey,
    Patient,
    PatientEvent,
    Series,
)

ERASED_NAME = "Erased patient"


def erased_phone(patient: Patient) -> str:
    # Unique like a phone, but no number: nothing can text it, nothing matches a real one.
    return f"erased-{patient.pk}"


@transaction.atomic
def erase_patient(
    *,
    patient: Patient,
    actor: str = Actor.STAFF,
    actor_user: Any = None,
    now: datetime | None = None,
) -> Patient:
    """Remove the patient's name, phone, email and free text from every table; future visits
    are cancelled, pending messages suppressed. Idempotent."""
    now = now or timezone.now()
    patient = Patient.objects.select_for_update().get(pk=patient.pk)
    phone, email = patient.phone, patient.email
    appointments = Appointment.objects.filter(patient=patient)
    ids = [str(pk) for pk in appointments.values_list("pk", flat=True)]
    appointments.filter(status__in=ACTIVE_STATUSES, start__gt=now).update(
        status=AppointmentStatus.CANCELLED, updated_at=now
    )
    appointments.update(cancel_reason="")
    # The one rewrite of append-only rows: the timeline stays, the words about them go.
    AppointmentEvent.objects.filter(appointment__patient=patient).update(reason="", data={})
    PatientEvent.objects.filter(patient=patient).update(data={})
    series_ids = [
        str(pk) for pk in Series.objects.filter(patient=patient).values_list("pk", flat=True)
    ]
    # Stored answers are encrypted and live 24 h: few enough to read through.
    answers = IdempotencyKey.objects.exclude(response_body__isnull=True).only("response_body")
    echoed = [a.pk for a in answers if _echoes(a.response_body, ids, series_ids)]
    IdempotencyKey.objects.filter(pk__in=echoed).delete()
    refs = [f"appointment:{pk}" for pk in ids] + [f"series:{pk}" for pk in series_ids]
    forget_recipient(phone=phone, email=email, subject_refs=refs)
    observers.patient_erased(patient=patient, phone=phone)
    # The care circle: the people they named (third parties' numbers), their texts, the rules.
    texts = Notification.objects.filter(
        dedupe_key__in=Disclosure.objects.filter(patient=patient).values("message_key")
    )
    texts.filter(status=NotificationStatus.PENDING).update(status=NotificationStatus.SUPPRESSED)
    texts.update(recipient="erased", recipient_hash="", body="", subject="")
    SupportPerson.objects.filter(patient=patient).delete()  # and their disclosure rows
    ContactPreference.objects.filter(patient=patient).delete()
    opt_in(phone=phone)  # consent is off: nothing will text it, and its hash goes too
    LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Patient), object_id=str(patient.pk)
    ).update(object_repr=ERASED_NAME, change_message="")
    patient.name, patient.phone, patient.email = ERASED_NAME, erased_phone(patient), ""
    patient.sms_consent, patient.sms_consent_source = False, ""
    patient.save()
    PatientEvent.objects.create(
        patient=patient, at=now, actor=actor, actor_user=signed_in(actor_user), kind="erased"
    )
    return patient


def _echoes(body: Any, ids: list[str], series_ids: list[str]) -> bool:
    """Whether a stored answer is about one of the appointments or series: a booking's
    answer names the appointment, a series booking's names the series."""
    if not isinstance(body, dict):
        return False
    series = body.get("series")
    series_id = series.get("id") if isinstance(series, dict) else None
    return str(body.get("id")) in ids or str(series_id) in series_ids
