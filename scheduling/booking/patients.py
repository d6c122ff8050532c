"""Patients are found by phone (E.164): the same number is the same person."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connections, router
from django.utils import timezone

from common.errors import DomainError
from common.events import signed_in
from common.phones import is_textable, phone_hash, to_e164
from common.sql import instance
from common.states import is_state
from common.timezones import is_timezone
from scheduling.booking import observers
from scheduling.booking.selectors import is_licensed
from scheduling.models import LANGUAGES, Appointment, Patient, PatientEvent, Service

LANGUAGE_CODES = frozenset(code for code, _ in LANGUAGES)


@dataclass(frozen=True)
class PatientDetails:
    """What a booking form says about the person booking."""

    name: str
    phone: str
    timezone: str
    state: str
    email: str = ""
    language: str = ""  # the page's language ("en", "es"); empty keeps the saved one


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


@dataclass(frozen=True)
class _ValidDetails(PatientDetails):
    """Details validate_details has checked and normalized: not checked again."""


def validate_details(details: PatientDetails) -> PatientDetails:
    """Check zone and state (codes invalid_timezone, invalid_state) and normalize the phone."""
    if isinstance(details, _ValidDetails):
        return details
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
    return _ValidDetails(
        name=details.name.strip(),
        phone=phone,
        timezone=details.timezone,
        state=state,
        email=details.email.strip(),
        language=details.language if details.language in LANGUAGE_CODES else "",
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
    patient = _insert_or_get(
        Patient(
            phone=details.phone,
            name=details.name,
            email=details.email,
            timezone=details.timezone,
            state=details.state,
            language=details.language or "en",
            sms_consent=sms_consent,
            sms_consent_at=now,
            sms_consent_source=consent_source,
        )
    )
    if not update_existing:
        # A weaker proof leaves a stored patient as it was; a patient created just now
        # holds these details already.
        return patient
    values: dict[str, Any] = {"timezone": details.timezone, "state": details.state}
    if details.language:  # later texts follow the language of the latest booking
        values["language"] = details.language
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


def _insert_or_get(new: Patient) -> Patient:
    """The stored patient with `new`'s phone, `new` inserted first when there is none.

    One statement where the database returns rows from an upsert (PostgreSQL, SQLite):
    INSERT ... ON CONFLICT (phone_hash) DO UPDATE SET phone_hash = phone_hash RETURNING
    every column. The no-op update is what makes a conflicting row come back (DO NOTHING
    returns nothing); it also locks that row until commit, as the update of changed details
    would. A concurrent booking by the same new number neither fails nor makes a second row.
    """
    alias = router.db_for_write(Patient)
    connection = connections[alias]
    if not connection.features.can_return_rows_from_bulk_insert:
        Patient.objects.bulk_create([new], ignore_conflicts=True)
        return Patient.objects.select_related("contact_preference").get(
            phone_hash=phone_hash(new.phone)
        )
    meta = Patient._meta
    quote = connection.ops.quote_name
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    values = [f.get_db_prep_save(f.pre_save(new, True), connection) for f in fields]
    hashed = quote(str(Patient._meta.get_field("phone_hash").column))
    # And whether they set contact rules (scheduling.circle), which every message reads:
    # without any, the answer is cached, so reading them costs no query.
    rules = Patient.contact_preference.related  # type: ignore[attr-defined]
    rules_table = quote(rules.related_model._meta.db_table)
    has_rules = (
        f"EXISTS (SELECT 1 FROM {rules_table} WHERE {rules_table}.{quote(rules.field.column)}"  # noqa: S608
        f" = {quote(meta.db_table)}.{quote(str(meta.pk.column))})"  # type: ignore[union-attr]
    )
    # Only identifiers from the model's metadata are interpolated; values are parameters.
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(str(f.column)) for f in fields)}) "  # noqa: S608
        f"VALUES ({', '.join(['%s'] * len(fields))}) "
        f"ON CONFLICT ({hashed}) DO UPDATE SET {hashed} = EXCLUDED.{hashed} "
        f"RETURNING {', '.join(quote(str(f.column)) for f in meta.concrete_fields)}, {has_rules}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        *row, with_rules = cursor.fetchone()
    patient = instance(Patient, alias, row)
    if not with_rules:
        rules.set_cached_value(patient, None)  # reading them raises DoesNotExist, no query
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
