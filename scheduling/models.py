"""Directory, availability, patients and appointments."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import ClassVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from common import crypto
from common.events import AppendOnlyEvent, Stateful
from common.formatting import initials, short_name
from common.states import STATE_CHOICES
from common.timezones import is_timezone
from scheduling.audit.history import track_history
from scheduling.audit.models import AuditEvent  # noqa: F401 (the app's models are found here)
from scheduling.availability.windows import parse_windows
from scheduling.booking.models import IdempotencyKey, Series  # noqa: F401 (found here too)
from scheduling.booking.waitlist.models import WaitlistEntry, WaitlistOffer  # noqa: F401
from scheduling.calendar.models import BusyInterval, CalendarSource  # noqa: F401 (found here too)
from scheduling.circle import models as circle_models  # noqa: F401 (found here too)


def validate_timezone(value: str) -> None:
    if not is_timezone(value):
        raise ValidationError(f"Unknown time zone: {value}")


# Controlled vocabularies are rows, so operators extend them without a release.
class Specialty(models.Model):
    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=120)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "specialties"

    def __str__(self) -> str:
        return self.name


class Insurance(models.Model):
    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=120)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "insurance plans"

    def __str__(self) -> str:
        return self.name


class Language(models.Model):
    code = models.CharField(max_length=16, unique=True, help_text="BCP 47 code, e.g. en, es")
    name = models.CharField(max_length=80)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ProviderKind(models.TextChoices):
    THERAPIST = "therapist", "Therapist"
    ADDICTION_MEDICINE = "addiction_medicine", "Addiction medicine clinician"
    COUNSELOR = "counselor", "Counselor"
    PEER_COACH = "peer_coach", "Peer recovery coach"
    GROUP_FACILITATOR = "group_facilitator", "Support group facilitator"


class Provider(models.Model):
    slug = models.SlugField(max_length=80, unique=True)
    name = models.CharField(max_length=160)
    credentials = models.CharField(max_length=120, blank=True)
    kind = models.CharField(max_length=32, choices=ProviderKind.choices, db_index=True)
    timezone = models.CharField(max_length=64, validators=[validate_timezone])
    bio = models.TextField(blank=True)
    email = models.EmailField(blank=True, help_text="Organizer address on calendar invites")
    accepting_new_patients = models.BooleanField(default=True, db_index=True)
    offers_video = models.BooleanField(default=True)
    offers_phone = models.BooleanField(default=False)
    specialties = models.ManyToManyField(Specialty, related_name="providers", blank=True)
    languages = models.ManyToManyField(Language, related_name="providers", blank=True)
    insurance = models.ManyToManyField(Insurance, related_name="providers", blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="provider",
        help_text="The login that runs this provider's portal",
    )
    feed_token_salt = models.CharField(max_length=32, blank=True)
    feed_token_hash = models.CharField(max_length=64, blank=True, db_index=True)
    feed_show_full_names = models.BooleanField(
        default=False, help_text="Show full patient names in the private calendar feed"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def display_name(self) -> str:
        """First name and last initial, e.g. 'Dana W.': discreet enough for a lock screen."""
        parts = self.name.split()
        if len(parts) < 2:
            return self.name
        return f"{parts[0]} {parts[-1][0]}."

    @property
    def modalities(self) -> list[str]:
        return [m for m, on in (("video", self.offers_video), ("phone", self.offers_phone)) if on]


class ProviderLicense(models.Model):
    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="licenses")
    state = models.CharField(max_length=2, choices=STATE_CHOICES)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["provider", "state"], name="unique_provider_license")
        ]
        indexes = [models.Index(fields=["state", "provider"], name="license_state_idx")]

    def __str__(self) -> str:
        return f"{self.provider} in {self.state}"


class Service(models.Model):
    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="services")
    slug = models.SlugField(max_length=80)
    name = models.CharField(max_length=160)
    duration_minutes = models.PositiveIntegerField()
    buffer_before_minutes = models.PositiveIntegerField(default=0)
    buffer_after_minutes = models.PositiveIntegerField(default=0)
    min_notice_hours = models.PositiveIntegerField(default=24)
    horizon_days = models.PositiveIntegerField(default=60)
    slot_step_minutes = models.PositiveIntegerField(default=30)
    requires_approval = models.BooleanField(default=False)
    capacity = models.PositiveIntegerField(default=1, help_text="Seats per session; >1 is a group")
    late_cancel_hours = models.PositiveIntegerField(
        default=24, help_text="Cancelling within this many hours of the start counts as late"
    )
    position = models.PositiveIntegerField(
        default=0, help_text="Order on the profile; first is the default"
    )
    is_active = models.BooleanField(default=True)
    series_max_weeks = models.PositiveSmallIntegerField(
        default=0, help_text="0: single visits only; else the longest recurring series, in weeks"
    )
    # A peer-led group anyone may join wherever they are (no clinical care, so no licensure).
    open_to_all_states = models.BooleanField(default=False)

    class Meta:
        ordering = ["provider", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "slug"], name="unique_service_slug"),
            models.CheckConstraint(
                condition=models.Q(duration_minutes__gt=0), name="service_duration_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(slot_step_minutes__gt=0), name="service_step_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(capacity__gte=1), name="service_capacity_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider}: {self.name}"

    @property
    def is_group(self) -> bool:
        return self.capacity > 1

    @property
    def duration(self) -> timedelta:
        return timedelta(minutes=self.duration_minutes)

    @property
    def buffer_before(self) -> timedelta:
        return timedelta(minutes=self.buffer_before_minutes)

    @property
    def buffer_after(self) -> timedelta:
        return timedelta(minutes=self.buffer_after_minutes)


class Weekday(models.IntegerChoices):
    MON = 0, "Monday"
    TUE = 1, "Tuesday"
    WED = 2, "Wednesday"
    THU = 3, "Thursday"
    FRI = 4, "Friday"
    SAT = 5, "Saturday"
    SUN = 6, "Sunday"


class WeeklyHours(models.Model):
    """A recurring window, wall-clock time in the provider's zone."""

    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="weekly_hours")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    start = models.TimeField()
    end = models.TimeField()

    class Meta:
        ordering = ["provider", "weekday", "start"]
        verbose_name_plural = "weekly hours"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end__gt=models.F("start")), name="weekly_end_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.start:%H:%M}-{self.end:%H:%M}"

    def clean(self) -> None:
        if self.start is not None and self.end is not None and self.end <= self.start:
            raise ValidationError({"end": "must be after start"})


class DateOverride(models.Model):
    """Replaces the weekly hours on one local date; empty windows mean unavailable all day."""

    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="overrides")
    date = models.DateField()
    windows = models.JSONField(
        default=list, blank=True, help_text='[{"start": "10:00", "end": "12:00"}]; [] = closed'
    )

    class Meta:
        ordering = ["provider", "date"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "date"], name="unique_override_date")
        ]

    def __str__(self) -> str:
        return f"{self.provider} on {self.date}"

    def clean(self) -> None:
        try:
            parse_windows(self.windows)
        except ValueError as exc:
            raise ValidationError({"windows": str(exc)}) from exc


class TimeOff(models.Model):
    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="time_off")
    start = models.DateTimeField()
    end = models.DateTimeField()
    note = models.CharField(max_length=200, blank=True, help_text="Internal only")

    class Meta:
        ordering = ["provider", "start"]
        verbose_name_plural = "time off"
        indexes = [models.Index(fields=["provider", "end"], name="timeoff_provider_end_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end__gt=models.F("start")), name="timeoff_end_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider}: {self.start:%Y-%m-%d %H:%M} to {self.end:%Y-%m-%d %H:%M} UTC"

    def clean(self) -> None:
        if self.start and self.end and self.end <= self.start:
            raise ValidationError({"end": "must be after start"})


class Patient(models.Model):
    # Encrypted at rest, found by keyed hashes (common.crypto); no ordering: ciphertext.
    name = crypto.EncryptedTextField(max_length=160)
    phone = crypto.EncryptedTextField(max_length=20, help_text="E.164")
    phone_hash = crypto.BlindIndexField(source="phone", unique=True)
    email = crypto.EncryptedEmailField(blank=True)
    email_hash = crypto.BlindIndexField(source="email", db_index=True)
    timezone = models.CharField(max_length=64, validators=[validate_timezone])
    state = models.CharField(max_length=2, choices=STATE_CHOICES)
    sms_consent = models.BooleanField(default=False)
    sms_consent_at = models.DateTimeField(null=True, blank=True)
    sms_consent_source = models.CharField(max_length=40, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return short_name(self.name)

    @property
    def initials(self) -> str:
        return initials(self.name)


class PatientEvent(AppendOnlyEvent):
    """A change to a patient's stored details: `data` maps each field to [old, new]."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="events")
    data = crypto.EncryptedJSONField(default=dict, blank=True)  # old and new emails: encrypted


class AppointmentStatus(models.TextChoices):
    REQUESTED = "requested", "Requested"
    CONFIRMED = "confirmed", "Confirmed"
    CANCELLED = "cancelled", "Cancelled"
    ATTENDED = "attended", "Attended"
    NO_SHOW = "no_show", "No-show"


# Statuses that hold their slot (the exclusion constraint applies only to these).
ACTIVE_STATUSES = (AppointmentStatus.REQUESTED, AppointmentStatus.CONFIRMED)


class Appointment(Stateful, models.Model):
    # Every legal status change. Attended and no-show may be corrected into each other.
    TRANSITIONS: ClassVar[dict[str, frozenset[str]]] = {
        AppointmentStatus.REQUESTED: frozenset(
            {AppointmentStatus.CONFIRMED, AppointmentStatus.CANCELLED}
        ),
        AppointmentStatus.CONFIRMED: frozenset(
            {AppointmentStatus.CANCELLED, AppointmentStatus.ATTENDED, AppointmentStatus.NO_SHOW}
        ),
        AppointmentStatus.ATTENDED: frozenset({AppointmentStatus.NO_SHOW}),
        AppointmentStatus.NO_SHOW: frozenset({AppointmentStatus.ATTENDED}),
        AppointmentStatus.CANCELLED: frozenset(),
    }

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="appointments")
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="appointments")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="appointments")
    start = models.DateTimeField()
    end = models.DateTimeField()
    # The time the appointment keeps the provider busy: the visit widened by the buffers.
    blocked_start = models.DateTimeField()
    blocked_end = models.DateTimeField()
    # Appointments with the same session_key may share time (seats of one group session);
    # any other overlap for the same provider is refused by the database on PostgreSQL.
    session_key = models.CharField(max_length=80)
    status = models.CharField(
        max_length=16, choices=AppointmentStatus.choices, default=AppointmentStatus.CONFIRMED
    )
    modality = models.CharField(max_length=8, default="video")
    video_room = models.CharField(max_length=64)
    # See common.tokens: the manage link's token is derived from (id, salt); only its hash is kept.
    manage_token_salt = models.CharField(max_length=32)
    manage_token_hash = models.CharField(max_length=64, unique=True)
    sequence = models.PositiveIntegerField(default=0, help_text="iCalendar SEQUENCE")
    cancel_reason = crypto.EncryptedTextField(max_length=500, blank=True)  # the words typed
    cancelled_late = models.BooleanField(default=False)
    # An occurrence of a series, and the instant its rule gives it (its RECURRENCE-ID).
    series = models.ForeignKey(
        Series, null=True, blank=True, on_delete=models.PROTECT, related_name="appointments"
    )
    series_start = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["start"]
        indexes = [
            # Busy intervals of a provider for the slot engine and feeds.
            models.Index(fields=["provider", "blocked_end"], name="appt_provider_blocked_end_idx"),
            # Due reminders: active appointments by start.
            models.Index(fields=["status", "start"], name="appt_status_start_idx"),
            models.Index(fields=["patient", "start"], name="appt_patient_start_idx"),
            models.Index(fields=["provider", "updated_at"], name="appt_provider_updated_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end__gt=models.F("start")), name="appt_end_after_start"
            ),
            models.CheckConstraint(
                condition=models.Q(
                    blocked_start__lte=models.F("start"), blocked_end__gte=models.F("end")
                ),
                name="appt_blocked_covers_visit",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.start:%Y-%m-%d %H:%M} UTC ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def video_url(self) -> str:
        return settings.VIDEO_ROOM_BASE_URL + self.video_room

    def is_past(self, now: datetime | None = None) -> bool:
        return self.start <= (now or timezone.now())

    def transition_to(self, status: str) -> str:
        """The one way a status changes: check the table, set it, bump SEQUENCE; return the
        old status (the service writes the event row with it)."""
        self.check_transition(status)
        from_status = self.status
        self.status = status
        self.sequence += 1
        return from_status


class AppointmentEventKind(models.TextChoices):
    BOOKED = "booked", "Booked"
    CONFIRMED = "confirmed", "Confirmed"
    PATIENT_CONFIRMED = "patient_confirmed", "Confirmed by the patient"
    RESCHEDULED = "rescheduled", "Rescheduled"
    CANCELLED = "cancelled", "Cancelled"
    ATTENDED = "attended", "Attended"
    NO_SHOW = "no_show", "No-show"


class AppointmentEvent(AppendOnlyEvent):
    """Append-only log of every change to an appointment."""

    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=32, choices=AppointmentEventKind.choices)
    reason = crypto.EncryptedTextField(max_length=500, blank=True)

    class Meta(AppendOnlyEvent.Meta):
        pass


# Who changed the directory and availability, when and how (scheduling.audit.history).
track_history(Provider, ProviderLicense, Service, WeeklyHours, DateOverride, TimeOff)
