"""Shapes of the referral API: input validation and the representation of a referral."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from common.phones import is_textable, to_e164
from common.states import is_state
from common.timezones import is_timezone
from referrals.links import referral_url
from referrals.matching import Match
from referrals.models import Modality, Referral, Urgency


def normalize_phone(value: str) -> str:
    """E.164, reading national numbers as US ones."""
    phone = to_e164(value)
    if phone is None:
        raise serializers.ValidationError("Enter a valid phone number.")
    if not is_textable(phone):
        raise serializers.ValidationError("We can only text numbers in the countries we serve.")
    return phone


class PhoneField(serializers.CharField):
    def to_internal_value(self, data: Any) -> str:
        value = super().to_internal_value(data)
        return normalize_phone(value) if value else value


class PatientInput(serializers.Serializer):
    name = serializers.CharField(max_length=160)
    phone = PhoneField(max_length=32)
    email = serializers.EmailField(required=False, allow_blank=True, default="")
    timezone = serializers.CharField(max_length=64)
    state = serializers.CharField(max_length=2)
    sms_consent = serializers.BooleanField(required=False, default=False)

    def validate_timezone(self, value: str) -> str:
        if not is_timezone(value):
            raise serializers.ValidationError("Unknown time zone.")
        return value

    def validate_state(self, value: str) -> str:
        value = value.upper()
        if not is_state(value):
            raise serializers.ValidationError("Unknown state code.")
        return value


class ReferrerInput(serializers.Serializer):
    name = serializers.CharField(max_length=160)
    organization = serializers.CharField(
        max_length=160, required=False, allow_blank=True, default=""
    )
    phone = PhoneField(max_length=32, required=False, allow_blank=True, default="")
    email = serializers.EmailField(required=False, allow_blank=True, default="")
    sms_consent = serializers.BooleanField(required=False, default=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs.get("email") and not attrs.get("phone"):
            raise serializers.ValidationError(
                {"email": "Give an email address or a phone number to hear back."}
            )
        return attrs


class PreferencesInput(serializers.Serializer):
    language = serializers.CharField(max_length=16, required=False, allow_blank=True, default="")
    insurance = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    modality = serializers.ChoiceField(
        choices=Modality.choices, required=False, allow_blank=True, default=""
    )
    provider = serializers.SlugField(max_length=80, required=False, allow_blank=True, default="")


class ReferralInput(serializers.Serializer):
    patient = PatientInput()
    referrer = ReferrerInput()
    reason = serializers.CharField(max_length=2000)
    notes = serializers.CharField(max_length=10000, required=False, allow_blank=True, default="")
    specialty = serializers.SlugField(max_length=64)
    service = serializers.SlugField(max_length=80, required=False, allow_blank=True, default="")
    urgency = serializers.ChoiceField(choices=Urgency.choices, default=Urgency.ROUTINE)
    preferences = PreferencesInput(required=False, default=dict)


class AssignInput(serializers.Serializer):
    provider = serializers.SlugField(max_length=80, required=False)
    providers = serializers.ListField(
        child=serializers.SlugField(max_length=80), required=False, max_length=10
    )


class RespondInput(serializers.Serializer):
    provider = serializers.SlugField(max_length=80, required=False)


class DeclineInput(RespondInput):
    reason = serializers.CharField(max_length=500)


class CancelInput(serializers.Serializer):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


def referral_data(referral: Referral, *, staff: bool) -> dict[str, Any]:
    """The referral as its staff or its provider sees it."""
    appointment = referral.appointment
    data: dict[str, Any] = {
        "id": str(referral.id),
        "status": referral.status,
        "urgency": referral.urgency,
        # What the referral was given, never the stored patient's record.
        "patient": {
            "name": referral.patient_name,
            "initials": referral.patient_initials,
            "phone": referral.patient_phone,
            "email": referral.patient_email,
            "timezone": referral.patient_timezone,
            "state": referral.patient_state,
            "sms_consent": referral.patient_sms_consent,
        },
        "referrer": {
            "name": referral.referrer_name,
            "organization": referral.referrer_organization,
            "phone": referral.referrer_phone,
            "email": referral.referrer_email,
            "sms_consent": referral.referrer_sms_consent,
        },
        "reason": referral.reason,
        "notes": referral.notes,
        "specialty": referral.specialty.slug,
        "service": referral.service_slug or None,
        "preferences": {
            "language": referral.language or None,
            "insurance": referral.insurance or None,
            "modality": referral.modality or None,
            "provider": referral.preferred_provider.slug if referral.preferred_provider else None,
        },
        "provider": referral.provider.slug if referral.provider else None,
        "offers": [
            {
                "provider": o.provider.slug,
                "service": o.service.slug,
                "status": o.status,
                "decline_reason": o.decline_reason or None,
                "created_at": o.created_at.isoformat(),
            }
            for o in referral.offers.all()
        ],
        "appointment": {
            "id": str(appointment.id),
            "provider": appointment.provider.slug,
            "start": appointment.start.isoformat(),
            "status": appointment.status,
        }
        if appointment is not None
        else None,
        "deadline_at": referral.deadline_at.isoformat(),
        "escalated_at": referral.escalated_at.isoformat() if referral.escalated_at else None,
        "created_at": referral.created_at.isoformat(),
        "events": [
            {
                "at": e.at.isoformat(),
                "actor": e.actor,
                "kind": e.kind,
                "from_status": e.from_status or None,
                "to_status": e.to_status or None,
                "note": e.note or None,
            }
            for e in referral.events.all()
        ],
    }
    if staff:
        data["scheduling_url"] = referral_url(referral)
    return data


def match_data(match: Match) -> dict[str, Any]:
    c = match.candidate
    return {
        "provider": c.slug,
        "name": c.name,
        "display_name": c.display_name,
        "service": c.service_slug,
        "next_available": c.next_available.isoformat() if c.next_available else None,
        "language_match": match.language_match,
        "load": c.load,
        "reasons": match.reasons,
    }
