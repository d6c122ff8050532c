"""Operators watch delivery here: statuses, errors, opt-outs, inbound replies, webhook
endpoints and their delivery log (with "resend")."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from common.errors import DomainError
from notifications import webhooks
from notifications.models import (
    InboundMessage,
    Notification,
    NotificationStatus,
    SmsOptOut,
    WebhookDelivery,
    WebhookEndpoint,
)


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "channel",
        "template",
        "status",
        "attempts",
        "error_code",
        "send_after",
        "sent_at",
    )
    list_filter = ("status", "channel", "template", "error_code")
    search_fields = ("dedupe_key", "subject_ref", "provider_message_id")
    date_hierarchy = "send_after"
    readonly_fields = [f.name for f in Notification._meta.fields]
    actions = ["retry_now"]

    @admin.action(description="Send again now (failed or suppressed rows)")
    def retry_now(self, request: HttpRequest, queryset: QuerySet[Notification]) -> None:
        count = queryset.filter(
            status__in=[NotificationStatus.FAILED, NotificationStatus.SUPPRESSED]
        ).update(
            status=NotificationStatus.PENDING,
            send_after=timezone.now(),
            claimed_at=None,
            queued_at=None,
            attempts=0,
        )
        self.message_user(
            request, f"{count} message(s) will be sent by the next sweep.", messages.SUCCESS
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(SmsOptOut)
class SmsOptOutAdmin(admin.ModelAdmin):
    list_display = ("__str__", "opted_out_at", "source")


@admin.register(InboundMessage)
class InboundMessageAdmin(admin.ModelAdmin):
    list_display = ("message_sid", "from_number", "received_at")
    search_fields = ("message_sid",)  # the number is encrypted
    readonly_fields = ("message_sid", "from_number", "body", "reply", "received_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


class WebhookEndpointForm(forms.ModelForm):
    url = forms.URLField(max_length=500, assume_scheme="https")
    events = forms.MultipleChoiceField(
        choices=[(e, e) for e in webhooks.EVENT_TYPES], widget=forms.CheckboxSelectMultiple
    )
    secret = forms.CharField(
        required=False,
        help_text="whsec_ followed by base64; leave empty to have one made. Give it to the receiver.",
    )

    class Meta:
        model = WebhookEndpoint
        fields = ("url", "description", "events", "secret", "is_active")

    def _domain(self, clean: Callable[[Any], Any], field: str) -> Any:
        try:
            return clean(self.cleaned_data.get(field))
        except DomainError as exc:
            raise forms.ValidationError(exc.detail) from exc

    def clean_url(self) -> str:
        return str(self._domain(webhooks.clean_url, "url"))

    def clean_events(self) -> list[str]:
        return list(self._domain(webhooks.clean_events, "events"))

    def clean_secret(self) -> str:
        return str(self._domain(lambda s: webhooks.clean_secret(s or ""), "secret"))


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    form = WebhookEndpointForm
    list_display = ("id", "url", "is_active", "consecutive_failures", "disabled_at", "deliveries")
    list_filter = ("is_active",)
    readonly_fields = ("consecutive_failures", "disabled_at", "disabled_reason", "created_at")

    @admin.display(description="delivery log")
    def deliveries(self, obj: WebhookEndpoint) -> str:
        url = reverse("admin:notifications_webhookdelivery_changelist")
        return format_html('<a href="{}?endpoint__id__exact={}">deliveries</a>', url, obj.pk)

    def save_model(
        self, request: HttpRequest, obj: WebhookEndpoint, form: Any, change: bool
    ) -> None:
        if obj.is_active and (obj.disabled_at or obj.consecutive_failures):
            # Turned back on by staff: a fresh start.
            obj.disabled_at, obj.disabled_reason, obj.consecutive_failures = None, "", 0
        super().save_model(request, obj, form, change)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "endpoint",
        "event_type",
        "status",
        "attempts",
        "response_status",
        "send_after",
        "delivered_at",
    )
    list_filter = ("status", "event_type", "endpoint")
    search_fields = ("message_id",)
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in WebhookDelivery._meta.fields]
    actions = ["resend"]

    @admin.action(description="Resend (same webhook-id) to active endpoints")
    def resend(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        count = webhooks.resend(deliveries=queryset)
        self.message_user(request, f"{count} delivery(ies) will be posted again.", messages.SUCCESS)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
