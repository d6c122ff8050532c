"""The access log (45 CFR 164.312(b)): one append-only row per record a request showed or
changed. Kept apart from scheduling/models.py, which imports it so the app label and the
migrations stay scheduling's.

A row names the patient by foreign key and nothing else about them: no name, phone, email or
token, so the log can be read, kept and exported with less care than the records it guards.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone


class AuditAction(models.TextChoices):
    VIEW = "view", "Viewed"
    LIST = "list", "Listed"
    EXPORT = "export", "Exported"
    CHANGE = "change", "Changed"


class AuditChannel(models.TextChoices):
    API = "api", "API"
    PAGE = "page", "Public pages"
    LINK = "link", "Patient's private link"
    PORTAL = "portal", "Provider portal"
    BOARD = "board", "Referral board"
    CALENDAR = "calendar", "Calendar feed or invite"
    ADMIN = "admin", "Admin"
    COMMAND = "command", "Management command"


class AuditRole(models.TextChoices):
    PATIENT = "patient", "Patient"
    PROVIDER = "provider", "Provider"
    COORDINATOR = "coordinator", "Coordinator"
    STAFF = "staff", "Staff"
    SYSTEM = "system", "System"


# Identifying fields whose changes are logged by name only; their old and new values stay
# in the record's own timeline (PatientEvent, the referral's history).
IDENTIFYING_FIELDS = frozenset(
    {"name", "phone", "email", "patient_name", "patient_phone", "patient_email"}
)


class AuditEvent(models.Model):
    at = models.DateTimeField(default=timezone.now)
    action = models.CharField(max_length=8, choices=AuditAction.choices)
    channel = models.CharField(max_length=12, choices=AuditChannel.choices)
    role = models.CharField(max_length=12, choices=AuditRole.choices)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The username at the time (the login may be renamed or deleted later).
    actor_label = models.CharField(max_length=150, blank=True)
    # referrals.Organization of a coordinator; an id, as scheduling never imports referrals.
    organization_id = models.PositiveBigIntegerField(null=True, blank=True)
    # PROTECT: the accounting must outlive any attempt to delete the person it accounts for.
    patient = models.ForeignKey(
        "scheduling.Patient",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="audit_events",
    )
    object_type = models.CharField(max_length=24)
    object_id = models.CharField(max_length=64)
    # For changes: {field: [old, new]}; identifying fields as {field: "changed"}.
    changes = models.JSONField(default=dict, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=200, blank=True)
    # The path with any token replaced by <token>; never the query string.
    path = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            # audit_report: WHERE patient_id = %s ORDER BY at
            models.Index(fields=["patient", "at"], name="audit_patient_at_idx"),
            # audit_report for records that belong to no patient (a referral not yet booked);
            # partial, so the rows of patients, nearly all, do not pay for it.
            models.Index(
                fields=["object_type", "object_id"],
                name="audit_object_idx",
                condition=models.Q(patient__isnull=True),
            ),
            models.Index(fields=["at"], name="audit_at_idx"),
        ]

    def __str__(self) -> str:
        who = self.actor_label or self.role
        return (
            f"{who} {self.action} {self.object_type}:{self.object_id} at {self.at:%Y-%m-%d %H:%M}"
        )

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise ValueError("AuditEvent rows are append-only.")
        super().save(*args, **kwargs)
