"""The care circle's rows: safe-contact preferences, support persons with their consent,
disclosures, and the crisis and recovery resources.

Imported by scheduling/models.py (the app's models are found there); this module imports
nothing from it, so relations to patient rows are named by string.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from django.db import models
from django.utils import timezone

from common import crypto

MAX_SUPPORT_PERSONS = 3
# What a support person may be told, and why: the consent form's "what" and "purpose"
# (42 CFR 2.31(a)), fixed so a support person's text never says more.
RECEIVES_REMINDERS = "reminders"
RECEIVES_CHOICES = [(RECEIVES_REMINDERS, "Reminders of visits and groups: date and time only")]
PURPOSE = "To help the patient remember and get to their appointments"


class ContactPreference(models.Model):
    """How and when a patient wants to be contacted. No row: the defaults (texts at any
    hour, provider's name shown)."""

    patient = models.OneToOneField(
        "scheduling.Patient", on_delete=models.CASCADE, related_name="contact_preference"
    )
    # No texts from quiet_from to quiet_until, wall clock in the patient's zone; a window
    # that ends before it starts runs past midnight (22:00 to 08:00).
    quiet_from = models.TimeField(null=True, blank=True)
    quiet_until = models.TimeField(null=True, blank=True)
    texts_ok = models.BooleanField(default=True)
    discreet_names = models.BooleanField(default=False)
    preferred_name = crypto.EncryptedTextField(max_length=60, blank=True)
    # Bumped on every change: pending reminders recorded under an older revision are
    # replaced, so a change reaches messages not yet sent.
    revision = models.PositiveIntegerField(default=0)
    # Set once the patient names a support person, so recording a reminder for everyone
    # else costs no query for support persons.
    has_support_persons = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(quiet_from__isnull=True, quiet_until__isnull=True)
                    | (
                        models.Q(quiet_from__isnull=False, quiet_until__isnull=False)
                        & ~models.Q(quiet_from=models.F("quiet_until"))
                    )
                ),
                name="contact_quiet_hours_whole",
            )
        ]

    def __str__(self) -> str:
        return f"contact preferences of patient {self.patient_id}"


class SupportStatus(models.TextChoices):
    INVITED = "invited", "Waiting for their reply"
    ACTIVE = "active", "Agreed"
    REVOKED = "revoked", "Withdrawn by you"
    STOPPED = "stopped", "They replied STOP"


class SupportPerson(models.Model):
    """A person the patient named, with the consent that lets us text them (42 CFR 2.31):
    who receives, what, for what purpose, until when, signed by the patient's action at
    `signed_at` through `signed_source`. Revoking takes effect at once: every text to them
    is checked at send time (scheduling.circle.sending)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    patient = models.ForeignKey(
        "scheduling.Patient", on_delete=models.CASCADE, related_name="support_persons"
    )
    name = crypto.EncryptedTextField(max_length=80)
    phone = crypto.EncryptedTextField(max_length=20, help_text="E.164")
    phone_hash = crypto.BlindIndexField(source="phone", db_index=True)
    relationship = crypto.EncryptedTextField(max_length=40)
    receives = models.CharField(max_length=16, choices=RECEIVES_CHOICES, default=RECEIVES_REMINDERS)
    purpose = models.CharField(max_length=200, default=PURPOSE)
    until = models.DateTimeField()
    signed_at = models.DateTimeField()
    signed_source = models.CharField(max_length=40)
    status = models.CharField(
        max_length=16, choices=SupportStatus.choices, default=SupportStatus.INVITED
    )
    agreed_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_source = models.CharField(max_length=40, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"support person {self.pk} ({self.status})"

    def is_current(self, now: datetime | None = None) -> bool:
        """Invited or agreed, and the consent has not run out."""
        live = self.status in (SupportStatus.INVITED, SupportStatus.ACTIVE)
        return live and self.until > (now or timezone.now())

    def may_receive(self, now: datetime | None = None) -> bool:
        """Agreed by text, not withdrawn, stopped or expired."""
        return self.status == SupportStatus.ACTIVE and self.until > (now or timezone.now())

    def state_label(self, now: datetime | None = None) -> str:
        if self.status in (SupportStatus.INVITED, SupportStatus.ACTIVE) and not self.is_current(
            now
        ):
            return "Ended: the date you chose has passed"
        return SupportStatus(self.status).label


class Disclosure(models.Model):
    """One message to a support person: what left the patient's record, to whom and when
    (the list 42 CFR 2.24 lets a patient ask for). The outbox row with `message_key` as its
    dedupe key says whether it was sent or withheld (a consent withdrawn before the send);
    an answer to the person's own text has no outbox row."""

    patient = models.ForeignKey(
        "scheduling.Patient", on_delete=models.CASCADE, related_name="disclosures"
    )
    support_person = models.ForeignKey(
        SupportPerson, on_delete=models.CASCADE, related_name="disclosures"
    )
    message_key = models.CharField(max_length=200, unique=True)
    what = models.CharField(max_length=120)
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-recorded_at"]

    def __str__(self) -> str:
        return f"disclosure {self.pk} to {self.support_person_id}"


class ResourceKind(models.TextChoices):
    CRISIS = "crisis", "Help right now"
    TREATMENT = "treatment", "Finding treatment"
    MEETINGS = "meetings", "Mutual-help meetings"


class Resource(models.Model):
    """A crisis or recovery resource shown on /resources/; the operator edits them."""

    kind = models.CharField(max_length=16, choices=ResourceKind.choices)
    name = models.CharField(max_length=120)
    description = models.CharField(max_length=300, blank=True)
    phone = models.CharField(max_length=40, blank=True, help_text="As dialled: 988, 18006624357")
    phone_label = models.CharField(max_length=40, blank=True, help_text="As shown")
    texts = models.BooleanField(default=False, help_text="The number also takes texts")
    url = models.URLField(blank=True)
    position = models.PositiveSmallIntegerField(default=0)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["kind", "position", "name"]

    def __str__(self) -> str:
        return self.name
