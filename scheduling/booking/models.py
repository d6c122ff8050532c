"""Booking's own rows: recurring series and stored idempotent answers.

Imported by scheduling/models.py (the app's models are found there); this module imports
nothing from it, so the relations to directory and patient rows are named by string.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from django.db import models
from django.utils import timezone

from common import crypto

EVERY_WEEKS_CHOICES = (1, 2)
MIN_COUNT, MAX_COUNT = 2, 26


class Series(models.Model):
    """A recurring booking: `count` visits every `every_weeks` weeks from `first_start`.

    Each visit is an ordinary Appointment pointing here (with `series_start`, the instant
    the rule gives it, which is its RECURRENCE-ID). The wall clock of `first_start` in the
    provider's zone is what the rule keeps across daylight-saving changes. `skipped` lists
    the rule's starts that were taken when the series was booked (on_conflict=skip).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    provider = models.ForeignKey("scheduling.Provider", on_delete=models.PROTECT, related_name="+")
    service = models.ForeignKey("scheduling.Service", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(
        "scheduling.Patient", on_delete=models.PROTECT, related_name="series"
    )
    first_start = models.DateTimeField()
    every_weeks = models.PositiveSmallIntegerField()
    count = models.PositiveSmallIntegerField()
    skipped = models.JSONField(default=list, blank=True)
    # See common.tokens: the series link's token is derived from (id, salt); only its hash is kept.
    manage_token_salt = models.CharField(max_length=32)
    manage_token_hash = models.CharField(max_length=64, unique=True)
    sequence = models.PositiveIntegerField(default=0, help_text="iCalendar SEQUENCE")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["first_start"]
        verbose_name_plural = "series"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(every_weeks__in=EVERY_WEEKS_CHOICES), name="series_every_weeks"
            ),
            models.CheckConstraint(
                condition=models.Q(count__gte=MIN_COUNT, count__lte=MAX_COUNT),
                name="series_count_range",
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.count} visits every {self.every_weeks} week(s) from {self.first_start:%Y-%m-%d}"
        )

    @property
    def skipped_starts(self) -> list[datetime]:
        return [datetime.fromisoformat(s) for s in self.skipped]


class IdempotencyKey(models.Model):
    """A stored answer to a POST, replayed for the same key and body within 24 hours."""

    key = models.CharField(max_length=200)
    scope = models.CharField(max_length=64)
    request_hash = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = crypto.EncryptedJSONField(null=True, blank=True)  # echoes name, phone, email
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scope", "key"], name="unique_idempotency_key")
        ]

    def __str__(self) -> str:
        return f"{self.scope}:{self.key}"
