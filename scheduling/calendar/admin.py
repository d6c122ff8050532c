"""The admin for external calendars: each source's status, last sync and busy count."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest

from common.errors import DomainError
from scheduling.calendar import sync
from scheduling.calendar.models import CalendarSource, SourceStatus


class CalendarSourceForm(forms.ModelForm):
    class Meta:
        model = CalendarSource
        fields = ["provider", "kind", "name", "url", "username", "password"]
        # Never sent back to the browser; left blank on a change, the stored one stays.
        widgets = {"password": forms.PasswordInput(render_value=False)}
        help_texts = {"password": "CalDAV app password (leave blank to keep the stored one)"}

    def clean_password(self) -> str:
        password: str = self.cleaned_data.get("password", "")
        if not password and self.instance.pk:
            return self.instance.password
        return password

    def clean_url(self) -> str:
        try:
            return sync.check_source_url(self.cleaned_data["url"])
        except DomainError as exc:
            raise ValidationError(exc.detail) from exc


@admin.register(CalendarSource)
class CalendarSourceAdmin(admin.ModelAdmin):
    form = CalendarSourceForm
    list_display = [
        "provider",
        "kind",
        "name",
        "status",
        "last_synced_at",
        "busy_count",
        "failure_count",
        "last_error",
    ]
    list_filter = ["status", "kind"]
    list_select_related = ["provider"]
    search_fields = ["provider__name", "provider__slug", "name"]
    readonly_fields = [
        "status",
        "last_synced_at",
        "last_attempt_at",
        "last_error",
        "busy_count",
        "busy_until",
        "failure_count",
        "next_attempt_at",
    ]
    actions = ["sync_now"]

    def save_model(
        self, request: HttpRequest, obj: CalendarSource, form: Any, change: bool
    ) -> None:
        if change and {"url", "username", "password"} & set(form.changed_data):
            # New credentials deserve a fresh try, and a fresh full fetch.
            obj.status, obj.failure_count, obj.etag, obj.last_modified = SourceStatus.OK, 0, "", ""
        super().save_model(request, obj, form, change)
        transaction.on_commit(lambda: sync.enqueue_sync(obj.pk))

    @admin.action(description="Sync the selected calendars now")
    def sync_now(self, request: HttpRequest, queryset: QuerySet[CalendarSource]) -> None:
        ids = list(queryset.values_list("pk", flat=True))
        queryset.filter(status=SourceStatus.DISABLED).update(status=SourceStatus.STALE)
        for source_id in ids:
            sync.enqueue_sync(source_id)
        self.message_user(request, f"{len(ids)} calendar(s) queued for sync.", messages.SUCCESS)
