"""Input shapes of the appointment API and the one way an appointment is shown."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from common.timezones import get_zone
from scheduling.booking import links
from scheduling.booking.patients import PatientDetails
from scheduling.booking.recurrence import describe, rule_starts
from scheduling.models import Appointment, AppointmentStatus, Series


@extend_schema_field(OpenApiTypes.DATETIME)
class AwareDateTimeField(serializers.Field):
    """An ISO 8601 date-time that must carry its UTC offset; a naive one is ambiguous."""

    default_error_messages = {
        "invalid": "Use an ISO 8601 date-time with a UTC offset, e.g. 2026-03-10T09:00:00-05:00.",
        "naive": "Include the UTC offset (e.g. -05:00 or Z); a bare local time is ambiguous.",
    }

    def to_internal_value(self, data: Any) -> datetime:
        if not isinstance(data, str) or len(data) > 64:
            self.fail("invalid")
        try:
            value = datetime.fromisoformat(data)
        except ValueError:
            self.fail("invalid")
        if value.tzinfo is None or value.utcoffset() is None:
            self.fail("naive")
        return value

    def to_representation(self, value: datetime) -> str:
        return value.isoformat()


@extend_schema_field(OpenApiTypes.BOOL)
class StrictBooleanField(serializers.Field):
    """Consent is given only by a JSON true or false, never by "yes", 1 or a missing field."""

    default_error_messages = {"invalid": "Must be true or false."}

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid")
        return data

    def to_representation(self, value: bool) -> bool:
        return value


class BookingPatientInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=160)
    phone = serializers.CharField(max_length=40)
    email = serializers.EmailField(required=False, allow_blank=True, default="")
    # Zone and state are checked by the domain (codes invalid_timezone, invalid_state).
    timezone = serializers.CharField(max_length=100)
    state = serializers.CharField(max_length=100)


class RepeatInputSerializer(serializers.Serializer):
    every_weeks = serializers.ChoiceField(choices=[1, 2])
    count = serializers.IntegerField(min_value=2, max_value=26)


class BookingInputSerializer(serializers.Serializer):
    provider = serializers.CharField(max_length=80)
    service = serializers.CharField(max_length=80)
    start = AwareDateTimeField()
    patient = BookingPatientInputSerializer()
    sms_consent = StrictBooleanField()
    referral_token = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default=""
    )
    # A recurring series (scheduling.booking.series): every 1 or 2 weeks, 2 to 26 visits.
    repeat = RepeatInputSerializer(required=False)
    on_conflict = serializers.ChoiceField(choices=["fail", "skip"], default="fail")
    # The token POST /api/verifications/{id}/check/ gave for this phone.
    verification = serializers.CharField(
        max_length=100, required=False, allow_blank=True, default=""
    )

    def patient_details(self) -> PatientDetails:
        data = self.validated_data["patient"]
        return PatientDetails(
            name=data["name"],
            phone=data["phone"],
            email=data.get("email", ""),
            timezone=data["timezone"],
            state=data["state"],
        )


class AppointmentRescheduleInputSerializer(serializers.Serializer):
    start = AwareDateTimeField()


class AppointmentCancelInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class AppointmentAttendanceInputSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=[AppointmentStatus.ATTENDED.value, AppointmentStatus.NO_SHOW.value]
    )


def appointment_body(
    appointment: Appointment, *, with_links: bool, sent: PatientDetails | None = None
) -> dict[str, Any]:
    """The appointment as the API shows it: times in the patient's zone with its abbreviation.

    The patient's private links (manage, invite with token) are shown only to the patient.
    With `sent` (a booking's answer) the patient block is what the request sent, never what
    is stored: a booking may attach to an existing patient whose record stays theirs.
    """
    patient = sent or appointment.patient
    zone = get_zone(patient.timezone)
    start = appointment.start.astimezone(zone)
    end = appointment.end.astimezone(zone)
    body: dict[str, Any] = {
        "id": str(appointment.id),
        "status": appointment.status,
        "provider": appointment.provider.slug,
        "provider_name": appointment.provider.name,
        "service": appointment.service.slug,
        "service_name": appointment.service.name,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "timezone": patient.timezone,
        "timezone_abbreviation": start.tzname(),
        "modality": appointment.modality,
        "video_url": appointment.video_url,
        "sequence": appointment.sequence,
        "cancel_reason": appointment.cancel_reason,
        "cancelled_late": appointment.cancelled_late,
        "series": str(appointment.series_id) if appointment.series_id else None,
        "patient": {
            "name": patient.name,
            "phone": patient.phone,
            "email": patient.email,
            "timezone": patient.timezone,
            "state": patient.state.upper(),
        },
    }
    if with_links:
        body["manage_url"] = links.manage_url(appointment)
        body["ics_url"] = links.ics_url(appointment)
    return body


class SeriesCancelInputSerializer(serializers.Serializer):
    """{"from": the start of a visit}: that visit and every later one are cancelled."""

    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        fields["from"] = AwareDateTimeField()  # a Python keyword, so not a class attribute
        return fields


class SeriesMoveInputSerializer(serializers.Serializer):
    """{"from": the start of a visit, "start": its new time}: later visits follow weekly."""

    start = AwareDateTimeField()

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        fields["from"] = AwareDateTimeField()
        return fields


def series_body(
    series: Series,
    appointments: list[Appointment],
    *,
    with_links: bool,
    sent: PatientDetails | None = None,
    skipped: list[datetime] | None = None,
) -> dict[str, Any]:
    """A series as the API shows it: its rule in words and each visit as appointment_body."""
    patient = sent or series.patient
    zone = get_zone(patient.timezone)
    own = get_zone(series.provider.timezone)
    starts = rule_starts(series.first_start, own, series.every_weeks, series.count)
    taken = skipped if skipped is not None else [datetime.fromisoformat(s) for s in series.skipped]
    body: dict[str, Any] = {
        "id": str(series.id),
        "rule": {
            "every_weeks": series.every_weeks,
            "count": series.count,
            "first_start": series.first_start.astimezone(own).isoformat(),
            "timezone": series.provider.timezone,
            "text": describe(starts, series.every_weeks, zone),
        },
        "sequence": series.sequence,
    }
    if with_links:
        body["manage_url"] = links.series_manage_url(series)
        body["ics_url"] = links.series_ics_url(series)
    return {
        "series": body,
        "appointments": [
            appointment_body(a, with_links=with_links, sent=sent) for a in appointments
        ],
        "skipped": [
            {"start": t.astimezone(zone).isoformat(), "code": "slot_unavailable"} for t in taken
        ],
    }
