"""Referrals, the organizations that send them, and their append-only timeline."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone

from common.crypto import BlindIndexField, EncryptedEmailField, EncryptedTextField
from common.events import AppendOnlyEvent, Stateful, signed_in
from common.formatting import initials
from common.states import STATE_CHOICES
from referrals.webhooks import publish_status_changed
from scheduling.audit.history import track_history


class Organization(models.Model):
    """A referring organization (a clinic, an emergency department, a county program)."""

    slug = models.SlugField(max_length=80, unique=True)
    name = models.CharField(max_length=160)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Coordinator(models.Model):
    """Ties a login to the organization whose referrals it creates and sees."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="coordinator"
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="coordinators"
    )

    def __str__(self) -> str:
        return f"{self.user} at {self.organization}"


class Urgency(models.TextChoices):
    ROUTINE = "routine", "Routine"
    URGENT = "urgent", "Urgent"


class Modality(models.TextChoices):
    VIDEO = "video", "Video"
    PHONE = "phone", "Phone"


class ReferralStatus(models.TextChoices):
    NEW = "new", "New"
    OFFERED = "offered", "Offered"
    ACCEPTED = "accepted", "Accepted"
    SCHEDULED = "scheduled", "Scheduled"
    COMPLETED = "completed", "Completed"
    DECLINED = "declined", "Declined"
    NO_SHOW = "no_show", "No-show"
    CANCELLED = "cancelled", "Cancelled"
    ESCALATED = "escalated", "Escalated"


S = ReferralStatus

# The workflow: every legal move, including the self-loops that are real events
# (re-offering while offered, a reschedule while scheduled).
TRANSITIONS: dict[str, frozenset[str]] = {
    S.NEW: frozenset({S.OFFERED, S.CANCELLED, S.ESCALATED}),
    S.OFFERED: frozenset(
        {S.OFFERED, S.ACCEPTED, S.DECLINED, S.SCHEDULED, S.CANCELLED, S.ESCALATED}
    ),
    S.ACCEPTED: frozenset(
        {S.OFFERED, S.ACCEPTED, S.DECLINED, S.SCHEDULED, S.CANCELLED, S.ESCALATED}
    ),
    S.SCHEDULED: frozenset({S.SCHEDULED, S.COMPLETED, S.NO_SHOW, S.OFFERED, S.CANCELLED}),
    S.DECLINED: frozenset({S.OFFERED, S.CANCELLED, S.ESCALATED}),
    # no_show <-> completed only follow a provider correcting the visit's attendance.
    S.NO_SHOW: frozenset({S.SCHEDULED, S.OFFERED, S.CANCELLED, S.ESCALATED, S.COMPLETED}),
    S.ESCALATED: frozenset({S.OFFERED, S.ACCEPTED, S.DECLINED, S.SCHEDULED, S.CANCELLED}),
    S.COMPLETED: frozenset({S.NO_SHOW}),
    S.CANCELLED: frozenset(),
}

# Referrals the escalation sweep still watches: not booked, not closed, not yet escalated.
ESCALATABLE_STATUSES = (S.NEW, S.OFFERED, S.ACCEPTED, S.DECLINED, S.NO_SHOW)
# A patient may book from the referral link in these statuses.
BOOKABLE_STATUSES = (S.OFFERED, S.ACCEPTED, S.NO_SHOW, S.ESCALATED)
CLOSED_STATUSES = (S.COMPLETED, S.CANCELLED)


class Referral(Stateful, models.Model):
    TRANSITIONS: ClassVar[dict[str, frozenset[str]]] = TRANSITIONS

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.PROTECT, related_name="referrals"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="referrals_created",
    )
    # What the coordinator entered about the person. Everything about the referral reads
    # these, never a stored Patient: knowing someone's number must not reveal their record.
    # Encrypted at rest (common.crypto), like the reason and notes; the phone is found by
    # its keyed hash.
    patient_name = EncryptedTextField(max_length=160)
    patient_phone = EncryptedTextField(max_length=20, help_text="E.164; the link is sent here")
    patient_phone_hash = BlindIndexField(source="patient_phone", db_index=True)
    patient_email = EncryptedEmailField(blank=True)
    patient_timezone = models.CharField(max_length=64)
    patient_state = models.CharField(max_length=2, choices=STATE_CHOICES)
    # The referrer's consent decides for this referral; Patient.sms_consent is the person's.
    patient_sms_consent = models.BooleanField(default=False)
    # Set only when the person books through the link with patient_phone (which proves
    # they hold that number); until then the referral belongs to no patient record.
    patient = models.ForeignKey(
        "scheduling.Patient",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="referrals",
    )

    referrer_name = models.CharField(max_length=160)
    referrer_organization = models.CharField(max_length=160, blank=True)
    referrer_phone = models.CharField(max_length=20, blank=True, help_text="E.164")
    referrer_email = models.EmailField(blank=True)
    referrer_sms_consent = models.BooleanField(default=False)

    # Clinical content: shown to staff and the offered provider, never in a message.
    reason = EncryptedTextField()
    notes = EncryptedTextField(blank=True)

    specialty = models.ForeignKey(
        "scheduling.Specialty", on_delete=models.PROTECT, related_name="referrals"
    )
    service_slug = models.SlugField(
        max_length=80, blank=True, help_text="The providers' service to book; blank = their first"
    )
    urgency = models.CharField(max_length=8, choices=Urgency.choices, default=Urgency.ROUTINE)
    language = models.CharField(max_length=16, blank=True)
    insurance = models.CharField(max_length=64, blank=True)
    modality = models.CharField(max_length=8, choices=Modality.choices, blank=True)
    preferred_provider = models.ForeignKey(
        "scheduling.Provider",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    status = models.CharField(max_length=16, choices=ReferralStatus.choices, default=S.NEW)
    # The provider the referral is assigned to (the first of the open offers).
    provider = models.ForeignKey(
        "scheduling.Provider",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_referrals",
    )
    appointment = models.ForeignKey(
        "scheduling.Appointment",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="referrals",
    )
    # See common.tokens: the self-scheduling link is derived from (id, salt); only its hash is kept.
    token_salt = models.CharField(max_length=32)
    token_hash = models.CharField(max_length=64, unique=True)

    deadline_at = models.DateTimeField()
    nudge_at = models.DateTimeField()
    nudged_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # escalate_overdue(): WHERE status IN (...) AND deadline_at <= now
            models.Index(fields=["status", "deadline_at"], name="referral_due_idx"),
            # nudge_unbooked(): WHERE status IN (...) AND nudged_at IS NULL AND nudge_at <= now
            models.Index(fields=["status", "nudge_at"], name="referral_nudge_idx"),
            models.Index(fields=["organization", "status"], name="referral_org_status_idx"),
        ]

    def __str__(self) -> str:
        return f"Referral {self.id} ({self.status})"

    @property
    def patient_initials(self) -> str:
        return initials(self.patient_name)

    @property
    def patient_first_name(self) -> str:
        parts = self.patient_name.split()
        return parts[0] if parts else ""

    @property
    def is_closed(self) -> bool:
        return self.status in CLOSED_STATUSES

    @property
    def is_bookable(self) -> bool:
        return self.status in BOOKABLE_STATUSES

    def transition_to(
        self,
        status: str,
        *,
        kind: str,
        actor: str,
        actor_user: Any = None,
        note: str = "",
        data: dict[str, Any] | None = None,
        now: datetime | None = None,
    ) -> ReferralEvent:
        """Move to `status` (saving the referral), append the event and record the
        `referral.status_changed` webhook deliveries; 409 when illegal. Call it inside the
        change's transaction."""
        self.check_transition(status)
        from_status = self.status
        self.status = status
        self.save()
        event = ReferralEvent.objects.create(
            referral=self,
            at=now or timezone.now(),
            actor=actor,
            actor_user=signed_in(actor_user),
            kind=kind,
            from_status=from_status,
            to_status=status,
            note=note[:500],
            data=data or {},
        )
        publish_status_changed(referral=self, event=event)
        return event

    def record_event(
        self, *, kind: str, actor: str, actor_user: Any = None, **data: Any
    ) -> ReferralEvent:
        """An event that changes no status (e.g. a reminder sent)."""
        return ReferralEvent.objects.create(
            referral=self,
            actor=actor,
            actor_user=signed_in(actor_user),
            kind=kind,
            from_status=self.status,
            to_status=self.status,
            data=data,
        )

    def age(self, now: datetime | None = None) -> timedelta:
        return (now or timezone.now()) - self.created_at


class OfferStatus(models.TextChoices):
    OPEN = "open", "Open"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"
    WITHDRAWN = "withdrawn", "Withdrawn"


class ReferralOffer(models.Model):
    """One provider the referral was offered to; a decline keeps it out of later matching."""

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="offers")
    provider = models.ForeignKey(
        "scheduling.Provider", on_delete=models.CASCADE, related_name="referral_offers"
    )
    service = models.ForeignKey(
        "scheduling.Service", on_delete=models.CASCADE, related_name="referral_offers"
    )
    status = models.CharField(max_length=12, choices=OfferStatus.choices, default=OfferStatus.OPEN)
    decline_reason = EncryptedTextField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    responded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["referral", "provider"], name="unique_referral_offer")
        ]
        indexes = [models.Index(fields=["provider", "status"], name="offer_provider_status_idx")]

    def __str__(self) -> str:
        return f"{self.referral_id} to {self.provider_id} ({self.status})"

    @property
    def is_live(self) -> bool:
        return self.status in (OfferStatus.OPEN, OfferStatus.ACCEPTED)

    @property
    def is_bookable(self) -> bool:
        """Services needing approval wait for the provider's acceptance before the patient books."""
        return self.status == OfferStatus.ACCEPTED or (
            self.status == OfferStatus.OPEN and not self.service.requires_approval
        )


class ReferralEventKind(models.TextChoices):
    CREATED = "created", "Created"
    ASSIGNED = "assigned", "Offered to providers"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"
    STILL_OFFERED = "still_offered", "Declined by one, still offered to others"
    REOFFERED = "reoffered", "Offered again"
    CANCELLED = "cancelled", "Cancelled"
    SCHEDULED = "scheduled", "Scheduled"
    APPOINTMENT_RESCHEDULED = "appointment_rescheduled", "Visit rescheduled"
    APPOINTMENT_CONFIRMED = "appointment_confirmed", "Visit confirmed"
    APPOINTMENT_PATIENT_CONFIRMED = "appointment_patient_confirmed", "Visit confirmed by patient"
    APPOINTMENT_CANCELLED = "appointment_cancelled", "Visit cancelled"
    COMPLETED = "completed", "Completed"
    NO_SHOW = "no_show", "No-show"
    ESCALATED = "escalated", "Escalated"
    NUDGED = "nudged", "Patient reminded of the link"


class ReferralEvent(AppendOnlyEvent):
    """Append-only timeline of a referral: who did what, from which status to which."""

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=32, choices=ReferralEventKind.choices)
    note = EncryptedTextField(max_length=500, blank=True)

    class Meta(AppendOnlyEvent.Meta):
        pass

    def __str__(self) -> str:
        return f"{self.kind}: {self.from_status} -> {self.to_status}"


# Who changed a referral, a coordinator or an organization, when and how (with the old values).
track_history(Organization, Coordinator, Referral)
