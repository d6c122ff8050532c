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
from common.parsers import parse_json
from common.states import STATES
from scheduling.calendar import admin as calendar_admin  # noqa: F401 (registers its admin)
from scheduling.circle import admin as circle_admin  # noqa: F401 (registers its admin)
from scheduling.directory import WEEKDAYS, DirectoryInvalid, import_directory
from scheduling.models import (
    DateOverride,
    Insurance,
    Language,
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


# Patients, appointments and stored answers: scheduling/booking/admin.py (registered on import).
from scheduling.booking import admin as _booking_admin  # noqa: E402, F401
