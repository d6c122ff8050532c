"""The operator's admin for the directory, patients and appointments."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q, QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from simple_history.admin import SimpleHistoryAdmin

from common.errors import DomainError
from common.events import Actor, signed_in
from common.parsers import parse_json
from common.states import STATES
from scheduling.audit.admin import (
    AuditedAdmin,
    ContactSearchMixin,
    appointment_patients,
    form_changes,
)
from scheduling.audit.services import Subject, appointment_subject, json_value, patient_subject
from scheduling.booking.erasure import erase_patient
from scheduling.calendar import admin as calendar_admin  # noqa: F401 (registers its admin)
from scheduling.directory import WEEKDAYS, DirectoryInvalid, import_directory
from scheduling.models import (
    Appointment,
    AppointmentEvent,
    DateOverride,
    IdempotencyKey,
    Insurance,
    Language,
    Patient,
    PatientEvent,
    Provider,
    ProviderLicense,
    Service,
    Specialty,
    TimeOff,
    WeeklyHours,
)


class LicensedStateFilter(admin.SimpleListFilter):
    title = "licensed state"
    parameter_name = "licensed_state"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        used = ProviderLicense.objects.values_list("state", flat=True).distinct()
        return sorted(((code, STATES[code]) for code in used), key=lambda item: item[1])

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if value:
            return queryset.filter(licenses__state=value).distinct()
        return queryset


class WeeklyHoursFormSet(BaseInlineFormSet):
    """Refuses overlapping windows on one weekday, as the importer does."""

    def clean(self) -> None:
        super().clean()
        windows: dict[int, list[tuple[Any, Any]]] = {}
        for form in self.forms:
            data = getattr(form, "cleaned_data", None)
            if not data or data.get("DELETE") or data.get("start") is None or not data.get("end"):
                continue
            windows.setdefault(data["weekday"], []).append((data["start"], data["end"]))
        for weekday, rows in windows.items():
            rows.sort()
            for (_, prev_end), (start, _) in zip(rows, rows[1:], strict=False):
                if start < prev_end:
                    raise ValidationError(f"Windows overlap on {WEEKDAYS[int(weekday)]}.")


class ProviderLicenseInline(admin.TabularInline):
    model = ProviderLicense
    extra = 0


class ServiceInline(admin.TabularInline):
    model = Service
    extra = 0
    show_change_link = True
    fields = [
        "position",
        "slug",
        "name",
        "duration_minutes",
        "buffer_before_minutes",
        "buffer_after_minutes",
        "min_notice_hours",
        "horizon_days",
        "slot_step_minutes",
        "capacity",
        "requires_approval",
        "is_active",
    ]


class WeeklyHoursInline(admin.TabularInline):
    model = WeeklyHours
    formset = WeeklyHoursFormSet
    extra = 0


class DateOverrideInline(admin.TabularInline):
    model = DateOverride
    extra = 0


class TimeOffInline(admin.TabularInline):
    model = TimeOff
    extra = 0


class DirectoryUploadForm(forms.Form):
    file = forms.FileField(
        label="Directory file", help_text="JSON, as for manage.py import_directory"
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        try:
            return parse_json(upload.read().decode("utf-8"))
        except ValueError as exc:  # not UTF-8, not JSON, or nested too deep
            raise ValidationError(f"This is not a JSON file: {exc}") from exc


@admin.register(Provider)
class ProviderAdmin(SimpleHistoryAdmin):
    list_display = [
        "name",
        "slug",
        "kind",
        "credentials",
        "timezone",
        "licensed_states",
        "accepting_new_patients",
        "active_services",
    ]
    list_filter = [
        "kind",
        "accepting_new_patients",
        LicensedStateFilter,
        "specialties",
        "languages",
        "insurance",
        "offers_phone",
    ]
    search_fields = ["name", "slug", "credentials"]
    prepopulated_fields = {"slug": ("name",)}
    filter_horizontal = ["specialties", "languages", "insurance"]
    raw_id_fields = ["user"]
    readonly_fields = ["feed_token_hash", "created_at", "updated_at"]
    inlines = [
        ProviderLicenseInline,
        ServiceInline,
        WeeklyHoursInline,
        DateOverrideInline,
        TimeOffInline,
    ]
    fieldsets = [
        (None, {"fields": ["name", "slug", "credentials", "kind", "timezone", "bio", "email"]}),
        (
            "Matching",
            {
                "fields": [
                    "accepting_new_patients",
                    "offers_video",
                    "offers_phone",
                    "specialties",
                    "languages",
                    "insurance",
                ]
            },
        ),
        (
            "Portal and calendar feed",
            {
                "fields": ["user", "feed_show_full_names", "feed_token_hash"],
                "description": "Rotate the feed link with: manage.py calendar_feed_url SLUG --rotate",
            },
        ),
        ("Record", {"fields": ["created_at", "updated_at"], "classes": ["collapse"]}),
    ]

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view(self.import_view)
        return [path("import/", view, name="scheduling_provider_import"), *super().get_urls()]

    def import_view(self, request: HttpRequest) -> HttpResponse:
        """Upload a directory file: the same all-or-nothing import as the command."""
        if not (self.has_add_permission(request) and self.has_change_permission(request)):
            raise PermissionDenied
        errors: list[dict[str, str]] = []
        detail = ""
        form = DirectoryUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                summary = import_directory(document=form.cleaned_data["file"])
            except DirectoryInvalid as exc:
                errors, detail = exc.errors, exc.detail
            except DomainError as exc:
                errors, detail = [], exc.detail
                messages.error(request, exc.detail)
            else:
                messages.success(request, str(summary))
                return HttpResponseRedirect(reverse("admin:scheduling_provider_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Import directory",
            "form": form,
            "errors": errors,
            "detail": detail,
        }
        return TemplateResponse(request, "admin/scheduling/provider/import.html", context)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Provider]:
        return (
            super()
            .get_queryset(request)
            .prefetch_related("licenses")
            .annotate(_active_services=Count("services", filter=Q(services__is_active=True)))
        )

    @admin.display(description="licensed in")
    def licensed_states(self, obj: Provider) -> str:
        return ", ".join(sorted(license.state for license in obj.licenses.all()))

    @admin.display(description="services", ordering="_active_services")
    def active_services(self, obj: Provider) -> int:
        return getattr(obj, "_active_services", 0)


@admin.register(Service)
class ServiceAdmin(SimpleHistoryAdmin):
    list_display = [
        "name",
        "provider",
        "slug",
        "duration_minutes",
        "capacity",
        "requires_approval",
        "is_active",
    ]
    list_filter = ["is_active", "requires_approval", "provider__kind"]
    list_select_related = ["provider"]
    search_fields = ["name", "slug", "provider__name", "provider__slug"]
    autocomplete_fields = ["provider"]


class _VocabularyAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "provider_count"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ("name",)}

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).annotate(_providers=Count("providers"))

    @admin.display(description="providers", ordering="_providers")
    def provider_count(self, obj: Any) -> int:
        return getattr(obj, "_providers", 0)


@admin.register(Specialty)
class SpecialtyAdmin(_VocabularyAdmin):
    pass


@admin.register(Insurance)
class InsuranceAdmin(_VocabularyAdmin):
    pass


@admin.register(Language)
class LanguageAdmin(_VocabularyAdmin):
    list_display = ["name", "code", "provider_count"]
    search_fields = ["name", "code"]
    prepopulated_fields = {}


@admin.register(Patient)
class PatientAdmin(ContactSearchMixin, AuditedAdmin):
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
