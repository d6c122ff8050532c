"""The access log in the admin: staff read it here (read-only), and every admin page that
shows patients writes to it through AuditedAdmin."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.db.models import Q
from django.http import HttpRequest, HttpResponse

from common.crypto import blind_index
from common.phones import phone_hash, to_e164
from notifications.admin import InboundMessageAdmin, NotificationAdmin
from notifications.models import InboundMessage, Notification
from scheduling.audit.models import AuditAction, AuditChannel, AuditEvent, AuditRole
from scheduling.audit.requests import record
from scheduling.audit.services import Subject
from scheduling.models import Appointment, Patient


class AuditedAdmin(admin.ModelAdmin):
    """Logs what the changelist showed (one row per patient, one INSERT), each change page
    and history page opened, and each save with the fields it changed."""

    def audit_subjects(self, objs: Sequence[Any]) -> list[Subject]:
        """The records shown and the patient each is about; override per model."""
        label = self.model._meta.model_name or ""
        return [Subject(label, str(obj.pk), getattr(obj, "patient_id", None)) for obj in objs]

    def _audit(
        self,
        request: HttpRequest,
        action: str,
        objs: Sequence[Any],
        changes: dict[str, tuple[Any, Any]] | None = None,
    ) -> None:
        subjects = self.audit_subjects(objs) if objs else []
        record(
            request,
            channel=AuditChannel.ADMIN,
            role=AuditRole.STAFF,
            action=action,
            subjects=subjects,
            changes=changes,
        )

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> Any:
        response = super().changelist_view(request, extra_context)
        changelist = (getattr(response, "context_data", None) or {}).get("cl")
        if changelist is not None:
            self._audit(request, AuditAction.LIST, list(changelist.result_list))
        return response

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> Any:
        response = super().change_view(request, object_id, form_url, extra_context)
        original = (getattr(response, "context_data", None) or {}).get("original")
        if original is not None and response.status_code == 200:
            self._audit(request, AuditAction.VIEW, [original])
        return response

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: Any = None
    ) -> HttpResponse:
        response = super().history_view(request, object_id, extra_context)
        obj = self.get_object(request, unquote(object_id))
        if obj is not None and response.status_code == 200:
            self._audit(request, AuditAction.VIEW, [obj])
        return response

    def history_form_view(
        self, request: HttpRequest, object_id: str, version_id: str, extra_context: Any = None
    ) -> Any:
        """A past version of the record (django-simple-history's page, where the admin has it)."""
        response = super().history_form_view(  # type: ignore[misc]
            request, object_id, version_id, extra_context
        )
        obj = self.get_object(request, unquote(object_id))
        if obj is not None and response.status_code == 200:
            self._audit(request, AuditAction.VIEW, [obj])
        return response

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        self._audit(request, AuditAction.CHANGE, [obj], form_changes(form))


def form_changes(form: Any) -> dict[str, tuple[Any, Any]]:
    """{field: (old, new)} for the fields an admin form changed."""
    return {
        name: (form.initial.get(name), form.cleaned_data.get(name)) for name in form.changed_data
    }


def patients_by_contact(contacts: Iterable[str]) -> dict[str, int]:
    """Patient ids by phone and by email, for the given addresses (one query)."""
    wanted = {c for c in contacts if c}
    if not wanted:
        return {}
    found: dict[str, int] = {}
    hashes = [blind_index(c) for c in wanted]
    rows = Patient.objects.filter(Q(phone_hash__in=hashes) | Q(email_hash__in=hashes))
    for pk, phone, email in rows.values_list("pk", "phone", "email"):
        found[phone] = pk
        if email:
            found[email] = pk
    return found


def contact_match(term: str, *, prefix: str = "") -> Q | None:
    """Rows of the patient whose whole phone number or email address is the search term:
    names and contact details are encrypted, so only an exact match by keyed hash can work."""
    term = term.strip()
    if "@" in term:
        return Q(**{f"{prefix}email_hash": blind_index(term)})
    phone = to_e164(term)
    return Q(**{f"{prefix}phone_hash": phone_hash(phone)}) if phone else None


class ContactSearchMixin(admin.ModelAdmin):
    """Admin search by a patient's full phone number or email (see contact_match), beside
    the model's own search_fields."""

    contact_prefix = ""
    search_help_text = "A patient's full phone number or email address"

    def get_search_results(
        self, request: HttpRequest, queryset: Any, search_term: str
    ) -> tuple[Any, bool]:
        found, duplicates = super().get_search_results(request, queryset, search_term)
        match = contact_match(search_term, prefix=self.contact_prefix) if search_term else None
        if match is None:
            return found, duplicates
        return found | queryset.filter(match), duplicates


def appointment_patients(appointment_ids: Iterable[str]) -> dict[str, int]:
    ids = [i for i in appointment_ids if i]
    rows = Appointment.objects.filter(pk__in=ids).values_list("pk", "patient_id") if ids else []
    return {str(pk): patient for pk, patient in rows}


class AuditedNotificationAdmin(AuditedAdmin, NotificationAdmin):
    """A message names its recipient and what it is about: the patient is the recipient, or
    the patient of the appointment it is about."""

    def audit_subjects(self, objs: Sequence[Any]) -> list[Subject]:
        by_contact = patients_by_contact(n.recipient for n in objs)
        about = appointment_patients(
            n.subject_ref.removeprefix("appointment:")
            for n in objs
            if n.subject_ref.startswith("appointment:")
        )
        return [
            Subject(
                "notification",
                str(n.pk),
                about.get(n.subject_ref.removeprefix("appointment:"))
                or by_contact.get(n.recipient),
            )
            for n in objs
        ]


class AuditedInboundMessageAdmin(AuditedAdmin, InboundMessageAdmin):
    def audit_subjects(self, objs: Sequence[Any]) -> list[Subject]:
        by_contact = patients_by_contact(m.from_number for m in objs)
        return [Subject("inbound_message", str(m.pk), by_contact.get(m.from_number)) for m in objs]


# notifications knows nothing of patients; scheduling, which does, logs its admin pages.
for _model, _admin in (
    (Notification, AuditedNotificationAdmin),
    (InboundMessage, AuditedInboundMessageAdmin),
):
    admin.site.unregister(_model)
    admin.site.register(_model, _admin)


@admin.register(AuditEvent)
class AuditEventAdmin(ContactSearchMixin, admin.ModelAdmin):
    """The access log, read-only: rows are only ever appended, by the code that shows data."""

    list_display = [
        "at",
        "action",
        "channel",
        "role",
        "actor_label",
        "organization_id",
        "patient_id",
        "object_type",
        "object_id",
        "ip_address",
    ]
    list_filter = ["action", "channel", "role", "object_type"]
    # A phone number or email finds the accounting of one person (ContactSearchMixin).
    search_fields = ["=object_id", "actor_label"]
    contact_prefix = "patient__"
    date_hierarchy = "at"
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
