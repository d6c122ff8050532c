"""External calendars: a provider's sources and the busy intervals synced from them.

Imported by scheduling/models.py (the app's models are found there); this module imports
nothing from it, so the relation to the provider is named by string.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from common import crypto


class SourceKind(models.TextChoices):
    ICAL_URL = "ical_url", "iCal URL"
    CALDAV = "caldav", "CalDAV"


class SourceStatus(models.TextChoices):
    OK = "ok", "OK"
    STALE = "stale", "Stale (last sync failed; keeps its last busy times)"
    DISABLED = "disabled", "Disabled (the calendar is gone or refuses us)"


class CalendarSource(models.Model):
    """A calendar whose busy times block the provider's slots (issue 16).

    The URL is encrypted too: Google's and Outlook's secret addresses are credentials.
    """

    provider = models.ForeignKey(
        "scheduling.Provider", on_delete=models.CASCADE, related_name="calendar_sources"
    )
    kind = models.CharField(max_length=16, choices=SourceKind.choices)
    name = models.CharField(max_length=120, blank=True, help_text="A label for the provider")
    url = crypto.EncryptedTextField()
    username = models.CharField(max_length=200, blank=True, help_text="CalDAV user")
    password = crypto.EncryptedTextField(blank=True, help_text="CalDAV app password")
    status = models.CharField(
        max_length=16, choices=SourceStatus.choices, default=SourceStatus.OK, db_index=True
    )
    last_synced_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    etag = models.CharField(
        max_length=300, blank=True, help_text="ETag (iCal URL) or sync-token/ctag (CalDAV)"
    )
    last_modified = models.CharField(max_length=100, blank=True)
    busy_count = models.PositiveIntegerField(default=0)
    # How far the stored busy set was expanded; "unchanged" answers keep it only while it
    # still reaches past the booking horizon (sync.sync_source).
    busy_until = models.DateTimeField(null=True, blank=True)
    failure_count = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["provider", "created_at"]
        indexes = [
            # due_sources(): status <> disabled AND next_attempt_at <= now
            models.Index(fields=["next_attempt_at"], name="calsource_next_attempt_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.name or self.pk} ({self.status})"


class BusyInterval(models.Model):
    """A busy time from a source, in UTC; it blocks slots like time off."""

    source = models.ForeignKey(CalendarSource, on_delete=models.CASCADE, related_name="busy")
    # Denormalized so availability loads every provider's busy time with one indexed query.
    provider = models.ForeignKey("scheduling.Provider", on_delete=models.CASCADE, related_name="+")
    start = models.DateTimeField()
    end = models.DateTimeField()

    class Meta:
        ordering = ["provider", "start"]
        indexes = [
            # availability.selectors.load_times: provider IN (...) AND end > since AND start <
            # until. By start: a busy set begins at its last sync, so the range scan stops at
            # `until` (next_available's first days read a few rows, not the whole horizon);
            # with end too it covers the query, which never reads the table.
            models.Index(fields=["provider", "start", "end"], name="busy_provider_start_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end__gt=models.F("start")), name="busy_end_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.start:%Y-%m-%d %H:%M} to {self.end:%Y-%m-%d %H:%M} UTC"
