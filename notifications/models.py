"""The outbox: every message is a row before it is sent."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone

from common.crypto import BlindIndexField, EncryptedJSONField, EncryptedTextField


class Channel(models.TextChoices):
    SMS = "sms", "SMS"
    EMAIL = "email", "Email"


class NotificationStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed"
    UNDELIVERABLE = "undeliverable", "Undeliverable"
    SUPPRESSED = "suppressed", "Suppressed"


class Notification(models.Model):
    channel = models.CharField(max_length=8, choices=Channel.choices)
    # Encrypted at rest (common.crypto): needed in clear only to send; found by its hash.
    recipient = EncryptedTextField(max_length=254, help_text="E.164 phone or email address")
    recipient_hash = BlindIndexField(source="recipient", db_index=True)
    template = models.CharField(max_length=100)
    # The words (names, times, invites) are encrypted too, until the retention purge.
    subject = EncryptedTextField(max_length=200, blank=True)
    body = EncryptedTextField()
    html_body = EncryptedTextField(blank=True)
    # Attachments stay generic here: [{"filename", "content_type", "content"}].
    attachments = EncryptedJSONField(default=list, blank=True)
    status = models.CharField(
        max_length=16, choices=NotificationStatus.choices, default=NotificationStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    # A carrier's error text can quote the number ("The 'To' number +1… is not valid").
    last_error = EncryptedTextField(max_length=500, blank=True)
    # The provider's error code (e.g. Twilio 21610), for operators filtering failures.
    error_code = models.CharField(max_length=16, blank=True)
    provider_message_id = models.CharField(max_length=64, blank=True, db_index=True)
    send_after = models.DateTimeField(default=timezone.now)
    dedupe_key = models.CharField(max_length=200, unique=True)
    # A label the caller uses to find its messages again (e.g. "appointment:<uuid>").
    subject_ref = models.CharField(max_length=80, blank=True, db_index=True)
    # Set while a worker holds the row (status `sending`); cleared when its lease expires.
    claimed_at = models.DateTimeField(null=True, blank=True)
    # When the row was last handed to the queue, so a backed-up queue is not flooded twice.
    queued_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # services.due_notifications(): WHERE status IN ('pending', 'sending')
            # AND send_after <= now
            models.Index(fields=["status", "send_after"], name="notification_due_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.template} ({self.status})"


class SmsOptOut(models.Model):
    # Only looked up, never texted: the number's keyed hash (common.phones.phone_hash of
    # its E.164 form) is all that is kept.
    phone_hash = models.CharField(max_length=64, unique=True)
    opted_out_at = models.DateTimeField(default=timezone.now)
    source = models.CharField(max_length=40, blank=True)

    def __str__(self) -> str:
        return f"opt-out {self.phone_hash[:8]}…"


class InboundMessage(models.Model):
    """Inbound SMS by MessageSid, so Twilio's retries are processed once."""

    message_sid = models.CharField(max_length=64, unique=True)
    from_number = EncryptedTextField(max_length=20)
    from_hash = BlindIndexField(source="from_number", db_index=True)
    body = models.CharField(max_length=1600)
    reply = models.TextField(blank=True)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"inbound {self.message_sid}"


class PhoneVerification(models.Model):
    """A one-time code texted to a phone: whoever types it back holds that phone.

    Only hashes are stored: the code's (HMAC under SECRET_KEY with the row id) and, once
    checked, the hash of the token that stands for the proof for a while.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    phone = EncryptedTextField(max_length=20)
    phone_hash = BlindIndexField(source="phone", db_index=True)
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    checks = models.PositiveSmallIntegerField(default=0)
    verified_at = models.DateTimeField(null=True, blank=True)
    token_hash = models.CharField(max_length=64, blank=True)

    class Meta:
        indexes = [
            # verification.verified_phone(): WHERE token_hash = %s
            models.Index(fields=["token_hash"], name="verification_token_idx"),
        ]

    def __str__(self) -> str:
        return f"verification {self.pk} at {self.created_at:%Y-%m-%d %H:%M}"


class WebhookEndpoint(models.Model):
    """A receiver of signed outbound events (Standard Webhooks), registered by staff."""

    url = models.URLField(max_length=500)
    description = models.CharField(max_length=200, blank=True)
    # "whsec_" + base64 of the key, as Standard Webhooks libraries take it.
    secret = models.CharField(max_length=100)
    # Event types this endpoint receives, e.g. ["appointment.booked", "referral.status_changed"].
    events = models.JSONField(default=list)
    is_active = models.BooleanField(default=True)
    # Failed attempts in a row (any delivery); a success resets it. At
    # WEBHOOK_DISABLE_AFTER_FAILURES the endpoint is disabled and staff are told.
    consecutive_failures = models.PositiveIntegerField(default=0)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"webhook {self.pk} {self.url}"


class WebhookDeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed"


class WebhookDelivery(models.Model):
    """One event for one endpoint: the outbox row, written in the changing transaction.

    `message_id` is the `webhook-id` header: the same on every attempt and on a resend, so a
    receiver drops what it has already processed.
    """

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    message_id = models.CharField(max_length=64, unique=True)
    event_type = models.CharField(max_length=64)
    payload = models.JSONField()
    status = models.CharField(
        max_length=16,
        choices=WebhookDeliveryStatus.choices,
        default=WebhookDeliveryStatus.PENDING,
    )
    attempts = models.PositiveIntegerField(default=0)
    send_after = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    queued_at = models.DateTimeField(null=True, blank=True)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "webhook deliveries"
        indexes = [
            # webhooks.due_deliveries(): WHERE status IN ('pending', 'sending') AND send_after <= now
            models.Index(fields=["status", "send_after"], name="webhook_delivery_due_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} to endpoint {self.endpoint_id} ({self.status})"


class WorkerHeartbeat(models.Model):
    """When a worker last finished a recurring job (notifications.health): one row a job."""

    name = models.CharField(max_length=40, primary_key=True)
    at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} at {self.at:%Y-%m-%d %H:%M:%S}"
