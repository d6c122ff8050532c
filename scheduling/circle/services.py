"""The patient's safe-contact rules: set from their private link, applied at once to
messages not yet sent."""

from __future__ import annotations

from datetime import datetime, time

from django.db import transaction
from django.utils import timezone

from common.errors import DomainError
from scheduling.circle.models import ContactPreference
from scheduling.models import Appointment, AppointmentStatus, Patient, PatientEvent

FIELDS = ("quiet_from", "quiet_until", "texts_ok", "discreet_names", "preferred_name")


@transaction.atomic
def update_contact_preference(
    *,
    patient: Patient,
    quiet_from: time | None,
    quiet_until: time | None,
    texts_ok: bool,
    discreet_names: bool,
    preferred_name: str,
    actor: str,
    now: datetime | None = None,
) -> ContactPreference:
    """Store the rules (a PatientEvent says what changed) and re-record the reminders of the
    patient's coming visits under them; the older unsent ones are withdrawn."""
    from scheduling.booking import messages

    now = now or timezone.now()
    if (quiet_from is None) != (quiet_until is None):
        raise DomainError(
            "invalid",
            "Give both ends of the quiet hours, or neither.",
            fields={"quiet_until" if quiet_until is None else "quiet_from": ["Required."]},
        )
    if quiet_from is not None and quiet_from == quiet_until:
        raise DomainError(
            "invalid", "Quiet hours must end at another time.", fields={"quiet_until": ["Same."]}
        )
    preferred_name = " ".join((preferred_name or "").split())
    if len(preferred_name) > 60:
        raise DomainError("invalid", "At most 60 characters.", fields={"preferred_name": ["Long."]})
    Patient.objects.select_for_update().filter(pk=patient.pk).first()
    pref, _ = ContactPreference.objects.get_or_create(patient=patient)
    values = {
        "quiet_from": quiet_from,
        "quiet_until": quiet_until,
        "texts_ok": texts_ok,
        "discreet_names": discreet_names,
        "preferred_name": preferred_name,
    }
    changes = {
        field: [str(getattr(pref, field)), str(value)]
        for field, value in values.items()
        if getattr(pref, field) != value
    }
    if not changes:
        return pref
    for field, value in values.items():
        setattr(pref, field, value)
    pref.revision += 1
    pref.save()
    if "preferred_name" in changes:
        changes["preferred_name"] = ["changed", "changed"]  # the words stay out of the log
    PatientEvent.objects.create(
        patient=patient, at=now, actor=actor, kind="contact_rules_changed", data=changes
    )
    patient.contact_preference = pref
    coming = Appointment.objects.filter(
        patient=patient, status=AppointmentStatus.CONFIRMED, start__gt=now
    ).select_related("provider", "service")
    for appointment in coming:
        appointment.patient = patient
        messages.record_reminders(appointment=appointment, now=now)
    return pref
