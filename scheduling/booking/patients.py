"""Patients are found by phone (E.164): the same number is the same person."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils import timezone

from common.errors import DomainError
from common.events import signed_in
from common.phones import is_textable, phone_hash, to_e164
from common.states import is_state
from common.timezones import is_timezone
from scheduling.booking import observers
from scheduling.booking.selectors import is_licensed
from scheduling.models import Appointment, Patient, PatientEvent, Service


@dataclass(frozen=True)
class PatientDetails:
    """What a booking form says about the person booking."""

    name: str
    phone: str
    timezone: str
    state: str
    email: str = ""


def details_of(patient: Patient) -> PatientDetails:
    """A stored patient's details as a booking form gives them, for a booking made for
    someone who already proved the phone (a waitlist offer, a visit's private link)."""
    return PatientDetails(
        name=patient.name,
        phone=patient.phone,
        timezone=patient.timezone,
        state=patient.state,
        email=patient.email,
    )


def normalize_phone(raw: str, *, region: str | None = None) -> str:
    """Return the E.164 form of a valid phone number or raise DomainError(invalid_phone)."""
    error = DomainError(
        "invalid_phone",
        "Enter a valid phone number, e.g. +1 212 555 0100.",
        fields={"patient": {"phone": ["Not a valid phone number."]}},
    )
    phone = to_e164(raw, region=region)
    if phone is None:
        raise error
    if not is_textable(phone):
        raise DomainError(
            "phone_not_supported",
            "We can only text numbers in the countries this service serves.",
            fields={"patient": {"phone": ["This country is not supported."]}},
        )
    return phone


def validate_details(details: PatientDetails) -> PatientDetails:
    """Check zone and state (codes invalid_timezone, invalid_state) and normalize the phone."""
    phone = normalize_phone(details.phone)
    if not is_timezone(details.timezone):
        raise DomainError(
            "invalid_timezone",
            f"Unknown time zone: {details.timezone!r}.",
            fields={"patient": {"timezone": ["Use an IANA name such as America/New_York."]}},
        )
    state = details.state.upper() if isinstance(details.state, str) else ""
    if not is_state(state):
        raise DomainError(
            "invalid_state",
            f"Unknown state: {details.state!r}.",
            fields={"patient": {"state": ["Use a USPS code such as NY."]}},
        )
    return PatientDetails(
        name=details.name.strip(),
        phone=phone,
        timezone=details.timezone,
        state=state,
        email=details.email.strip(),
    )


def find_or_create_patient(
    *,
    details: PatientDetails,
    sms_consent: bool,
    consent_source: str,
    actor: str,
    actor_user: Any = None,
    update_existing: bool = True,
    now: datetime | None = None,
) -> Patient:
    """The patient with this phone, created when new; consent changes keep their time and source.

    Callers have proved possession of the phone (a texted code or link) or act as staff. An
    existing patient keeps their name and email; the zone and state follow the latest
    booking, since they say where the person is now, unless `update_existing` is off (a
    proof weaker than a code). Every change is a PatientEvent with the old and new values.
    """
    details = validate_details(details)
    now = now or timezone.now()
    existed = (
        not update_existing
        and Patient.objects.filter(phone_hash=phone_hash(details.phone)).exists()
    )
    # Insert-or-ignore then read: two queries whether the patient is new or not, and a
    # concurrent booking by the same new number neither fails nor creates a second row.
    Patient.objects.bulk_create(
        [
            Patient(
                phone=details.phone,
                name=details.name,
                email=details.email,
                timezone=details.timezone,
                state=details.state,
                sms_consent=sms_consent,
                sms_consent_at=now,
                sms_consent_source=consent_source,
            )
        ],
        ignore_conflicts=True,
    )
    # Their contact rules (scheduling.circle) come along: the messages read them.
    patient = Patient.objects.select_related("contact_preference").get(
        phone_hash=phone_hash(details.phone)
    )
    if existed:
        return patient
    values: dict[str, Any] = {"timezone": details.timezone, "state": details.state}
    if not patient.email and details.email:
        values["email"] = details.email
    if patient.sms_consent != sms_consent or patient.sms_consent_at is None:
        values.update(
            sms_consent=sms_consent, sms_consent_at=now, sms_consent_source=consent_source
        )
    changes = {
        field: [_plain(getattr(patient, field)), _plain(value)]
        for field, value in values.items()
        if getattr(patient, field) != value
    }
    if changes:
        for field in changes:
            setattr(patient, field, values[field])
        patient.save(update_fields=[*changes, "updated_at"])
        PatientEvent.objects.create(
            patient=patient,
            at=now,
            actor=actor,
            actor_user=signed_in(actor_user),
            kind="details_changed",
            data=changes,
        )
    return patient


def _plain(value: object) -> object:
    return value.isoformat() if isinstance(value, datetime) else value


def admit_patient(
    *,
    service: Service,
    patient: PatientDetails,
    sms_consent: bool,
    possession: bool,
    referral_token: str | None,
    consent_source: str,
    actor: str,
    actor_user: Any,
    now: datetime,
) -> Patient:
    """Every check a booking makes before any time is looked at; the patient found or created.

    `possession`: the caller proved it holds the phone (a texted code) or acts as staff or
    provider. Without it, a referral link for that phone books too, but leaves an existing
    patient's stored details as they are (a link can be forwarded; a coordinator sees it);
    anything else is 400 verification_required, the same answer for every number.
    """
    provider = service.provider
    details = validate_details(patient)
    if not service.is_active:
        raise DomainError("unknown_service", "This service is not offered.", fields={})
    if not is_licensed(service, details.state):
        raise DomainError(
            "not_licensed_in_state",
            f"This provider cannot see patients located in {details.state}.",
            fields={"patient": {"state": ["The provider is not licensed in this state."]}},
        )
    referral_checked = False
    if referral_token:
        referral_checked = observers.check_booking(
            referral_token=referral_token, provider=provider, service=service, phone=details.phone
        )
    # Only past this line may the answer depend on who holds the phone.
    if not (possession or referral_checked):
        raise DomainError(
            "verification_required",
            "Confirm your phone number with the code we text you, then book.",
            fields={"verification": ["Confirm your phone number first."]},
        )
    if not provider.accepting_new_patients and not referral_checked:
        known = Appointment.objects.filter(
            provider=provider, patient__phone_hash=phone_hash(details.phone)
        )
        if not known.exists():
            raise DomainError(
                "not_accepting_new_patients",
                "This provider is not accepting new patients.",
                status=409,
            )
    return find_or_create_patient(
        details=details,
        sms_consent=sms_consent,
        consent_source=consent_source,
        actor=actor,
        actor_user=actor_user,
        update_existing=possession,
        now=now,
    )
