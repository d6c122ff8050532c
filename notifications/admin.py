"""Operators watch delivery here: statuses, errors, opt-outs, inbound replies."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from notifications.models import InboundMessage, Notification, NotificationStatus, SmsOptOut


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
