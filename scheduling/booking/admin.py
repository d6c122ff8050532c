"""The operator's admin for patients, appointments and stored booking answers (imported by
scheduling/admin.py, so Django's autodiscovery registers them)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest

from common.events import Actor, signed_in
from common.phones import phone_hash, to_e164
from scheduling.audit.admin import (
    AuditedAdmin,
    ContactSearchMixin,
    appointment_patients,
    form_changes,
)
from scheduling.audit.services import Subject, appointment_subject, json_value, patient_subject
from scheduling.booking.erasure import erase_patient
from scheduling.models import (
    Appointment,
    AppointmentEvent,
    IdempotencyKey,
    Patient,
    PatientEvent,
)


class PatientForm(forms.ModelForm):
    def clean_phone(self) -> str:
        # Uniqueness lives on the (non-editable) hash, which the form does not validate.
        phone = to_e164(self.cleaned_data["phone"])
        if phone is None:
            raise ValidationError("Not a valid phone number.")
        others = Patient.objects.filter(phone_hash=phone_hash(phone)).exclude(pk=self.instance.pk)
        if others.exists():
            raise ValidationError("Another patient has this phone number.")
        return phone


@admin.register(Patient)
class PatientAdmin(ContactSearchMixin, AuditedAdmin):
    form = PatientForm
    list_display = ["name", "masked_phone", "state", "timezone", "sms_consent", "created_at"]
    list_filter = ["sms_consent", "state"]
    # Names, phones and emails are encrypted: ContactSearchMixin finds a whole number or
    # email by its hash, and ciphertext cannot sort.
    search_fields = ["=id"]
    sortable_by = ["state", "timezone", "sms_consent", "created_at"]
    readonly_fields = ["sms_consent_at", "sms_consent_source", "created_at", "updated_at"]
    actions = ["erase"]

    @admin.action(description="Erase the selected patients (anonymize everywhere)")
    def erase(self, request: HttpRequest, queryset: QuerySet[Patient]) -> None:
        for patient in queryset:
            erase_patient(patient=patient, actor=Actor.STAFF, actor_user=request.user)
        self.message_user(request, f"{queryset.count()} patient(s) erased.")

    @admin.display(description="phone")
    def masked_phone(self, obj: Patient) -> str:
        # Lists are read over shoulders; the full number is on the change page.
        if len(obj.phone) <= 4:
            return "•" * len(obj.phone)
        return f"{obj.phone[:2]}{'•' * (len(obj.phone) - 6)}{obj.phone[-4:]}"

    def audit_subjects(self, objs: Any) -> list[Subject]:
        return [patient_subject(p) for p in objs]

    def save_model(self, request: HttpRequest, obj: Patient, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        # The patient's own timeline keeps the old and new values; the access log the names.
        changes = {
            k: [json_value(old), json_value(new)] for k, (old, new) in form_changes(form).items()
        }
        if change and changes:
            PatientEvent.objects.create(
                patient=obj,
                actor=Actor.STAFF,
                actor_user=signed_in(request.user),
                kind="edited",
                data=changes,
            )


_EVENT_FIELDS: tuple[str, ...] = (
    "at",
    "kind",
    "actor",
    "actor_user",
    "from_status",
    "to_status",
    "reason",
    "data",
)


_APPOINTMENT_FIELDS: tuple[str, ...] = (
    "id",
    "provider",
    "service",
    "patient",
    "status",
    "start",
    "end",
    "blocked_start",
    "blocked_end",
    "session_key",
    "modality",
    "sequence",
    "cancel_reason",
    "cancelled_late",
    "created_at",
    "updated_at",
)


class AppointmentEventInline(admin.TabularInline):
    """The lifecycle log is append-only: shown, never edited."""

    model = AppointmentEvent
    extra = 0
    can_delete = False
    fields = _EVENT_FIELDS
    readonly_fields = _EVENT_FIELDS

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Appointment)
class AppointmentAdmin(ContactSearchMixin, AuditedAdmin):
    """Read-only: appointments change through the booking services, which notify and log."""

    list_display = ["start", "provider", "service", "patient", "status", "modality"]
    list_filter = ["status", ("provider", admin.RelatedOnlyFieldListFilter), "start", "modality"]
    list_select_related = ["provider", "service__provider", "patient"]
    search_fields = ["provider__name", "provider__slug"]
    contact_prefix = "patient__"
    date_hierarchy = "start"
    ordering = ["-start"]
    inlines = [AppointmentEventInline]
    fields = _APPOINTMENT_FIELDS
    readonly_fields = _APPOINTMENT_FIELDS

    def audit_subjects(self, objs: Any) -> list[Subject]:
        return [appointment_subject(a) for a in objs]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def _answered_appointment(body: Any) -> str:
    """The appointment a stored answer shows: a booking's, or a series' first visit."""
    body = body if isinstance(body, dict) else {}
    visits = body.get("appointments") or [{}]
    return str(body.get("id") or (visits[0] if isinstance(visits[0], dict) else {}).get("id") or "")


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(AuditedAdmin):
    list_display = ["scope", "key", "response_status", "created_at"]
    list_filter = ["response_status"]  # scopes are per client: too many to list
    search_fields = ["key"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "scope",
        "key",
        "request_hash",
        "response_status",
        "response_body",
        "created_at",
    ]

    def audit_subjects(self, objs: Any) -> list[Subject]:
        # A stored answer to a booking shows the patient block of its appointment.
        booked = {k.pk: _answered_appointment(k.response_body) for k in objs}
        patients = appointment_patients(booked.values())
        return [Subject("idempotency_key", str(pk), patients.get(a)) for pk, a in booked.items()]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
