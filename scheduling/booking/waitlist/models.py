"""Waitlist rows: who waits for what, and each place offered to one of them.

Imported by scheduling/models.py (the app's models are found there); this module imports
nothing from it, so the relations to directory, patient and appointment rows are strings.
"""

from __future__ import annotations

import uuid
from typing import ClassVar

from django.db import models
from django.db.models import Q

from common.events import Stateful


class WaitlistStatus(models.TextChoices):
    WAITING = "waiting", "Waiting"
    OFFERED = "offered", "Holding an offer"
    BOOKED = "booked", "Booked"
    LEFT = "left", "Left the list"
    CLOSED = "closed", "Closed"  # the session started or the date passed


# An entry that still waits in line (an offer that lapses puts it back to waiting).
OPEN_STATUSES = (WaitlistStatus.WAITING, WaitlistStatus.OFFERED)


class WaitlistEntry(Stateful, models.Model):
    """One person waiting: for a seat in the session at `session_start` ("start"), or for
    any opening of the service earlier than `before` ("before"; with `appointment`, the
    visit that an earlier time replaces). Urgent referrals (`priority` 1) go first, then
    first come."""

    TRANSITIONS: ClassVar[dict[str, frozenset[str]]] = {
        WaitlistStatus.WAITING: frozenset(
            {WaitlistStatus.OFFERED, WaitlistStatus.LEFT, WaitlistStatus.CLOSED}
        ),
        WaitlistStatus.OFFERED: frozenset(
            {
                WaitlistStatus.WAITING,
                WaitlistStatus.BOOKED,
                WaitlistStatus.LEFT,
                WaitlistStatus.CLOSED,
            }
        ),
        WaitlistStatus.BOOKED: frozenset(),
        WaitlistStatus.LEFT: frozenset(),
        WaitlistStatus.CLOSED: frozenset(),
    }

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    provider = models.ForeignKey("scheduling.Provider", on_delete=models.CASCADE, related_name="+")
    service = models.ForeignKey(
        "scheduling.Service", on_delete=models.CASCADE, related_name="waitlist"
    )
    patient = models.ForeignKey(
        "scheduling.Patient", on_delete=models.CASCADE, related_name="waitlist_entries"
    )
    session_start = models.DateTimeField(null=True, blank=True)
    before = models.DateTimeField(null=True, blank=True)
    appointment = models.ForeignKey(
        "scheduling.Appointment",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    priority = models.PositiveSmallIntegerField(default=0, help_text="1: an urgent referral")
    status = models.CharField(
        max_length=16, choices=WaitlistStatus.choices, default=WaitlistStatus.WAITING
    )
    # See common.tokens: the private link's token is derived from (id, salt); only its hash is kept.
    manage_token_salt = models.CharField(max_length=32)
    manage_token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "waitlist entries"
        indexes = [
            # Who is next: a service's waiting entries in line order.
            models.Index(
                "service",
                models.F("priority").desc(),
                "created_at",
                "id",
                name="waitlist_next_idx",
                condition=Q(status="waiting"),
            ),
            # Services that have anyone waiting (the sweep), and a patient's open entries.
            models.Index(fields=["status", "service"], name="waitlist_status_service_idx"),
            models.Index(fields=["patient", "status"], name="waitlist_patient_status_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(session_start__isnull=True) ^ Q(before__isnull=True),
                name="waitlist_start_xor_before",
            ),
            # One open wish per session, and one "earlier time" wish per service.
            models.UniqueConstraint(
                fields=["patient", "service", "session_start"],
                condition=Q(status__in=["waiting", "offered"], session_start__isnull=False),
                name="waitlist_one_open_seat_wish",
            ),
            models.UniqueConstraint(
                fields=["patient", "service"],
                condition=Q(status__in=["waiting", "offered"], before__isnull=False),
                name="waitlist_one_open_earlier_wish",
            ),
        ]

    def __str__(self) -> str:
        wants = f"seat at {self.session_start:%Y-%m-%d %H:%M}" if self.session_start else "earlier"
        return f"{wants} UTC ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def transition_to(self, status: str) -> str:
        self.check_transition(status)
        from_status, self.status = self.status, status
        return from_status


class OfferStatus(models.TextChoices):
    HELD = "held", "Held for the person"
    ACCEPTED = "accepted", "Taken"
    EXPIRED = "expired", "No answer in time"
    DECLINED = "declined", "Left the list"
    LOST = "lost", "Taken by someone else"


class WaitlistOffer(models.Model):
    """A freed place (`start` of `service`) held for one entry until `expires_at`.

    While held, the slot engine counts it like an active appointment (a seat of a group
    session, or busy time), so no one else is offered or can book it. Its blocked interval
    is the service's, like an appointment's."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    entry = models.ForeignKey(WaitlistEntry, on_delete=models.CASCADE, related_name="offers")
    provider = models.ForeignKey("scheduling.Provider", on_delete=models.CASCADE, related_name="+")
    service = models.ForeignKey("scheduling.Service", on_delete=models.CASCADE, related_name="+")
    start = models.DateTimeField()
    blocked_start = models.DateTimeField()
    blocked_end = models.DateTimeField()
    status = models.CharField(max_length=16, choices=OfferStatus.choices, default=OfferStatus.HELD)
    expires_at = models.DateTimeField()
    appointment = models.ForeignKey(
        "scheduling.Appointment", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            # Held places in the slot engine's window (read with the appointments).
            models.Index(fields=["provider", "blocked_end"], name="offer_provider_blocked_idx"),
            # Holds that lapsed: the expiry sweep.
            models.Index(
                fields=["expires_at"], name="offer_held_expiry_idx", condition=Q(status="held")
            ),
        ]
        constraints = [
            # Never the same place twice to the same person.
            models.UniqueConstraint(fields=["entry", "start"], name="offer_place_once_per_entry"),
            # One held offer per person at a time.
            models.UniqueConstraint(
                fields=["entry"], condition=Q(status="held"), name="offer_one_held_per_entry"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.start:%Y-%m-%d %H:%M} UTC ({self.status})"
