"""Bridgeway rows as FHIR R4 (4.0.1) resources: plain dicts, no queries of their own.

Ids: Practitioner, PractitionerRole are the provider's id; HealthcareService and Schedule
the service's id (slots are computed per service); Slot is "<service id>-<epoch seconds>";
Appointment the appointment's UUID; ServiceRequest and Task the referral's UUID (the
referral and its workflow). Resources about a patient's care carry the 42CFRPart2 security
label: Bridgeway serves people recovering from substance use, so every such record is a
Part 2 record.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from django.conf import settings

from referrals.models import Referral, ReferralStatus, Urgency
from scheduling.models import (
    Appointment,
    AppointmentStatus,
    Provider,
    Service,
)

ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
PART2_LABEL = {
    "system": ACT_CODE,
    "code": "42CFRPart2",
    "display": "42 CFR Part2",
}
TZ_EXTENSION = "http://hl7.org/fhir/StructureDefinition/tz-code"


def base_url() -> str:
    return f"{settings.PUBLIC_BASE_URL}/fhir"


def system(name: str) -> str:
    """Bridgeway's own code systems and extensions, named under its public URL."""
    return f"{settings.PUBLIC_BASE_URL}/fhir/{name}"


def instant(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def part2_meta(updated: datetime | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"security": [PART2_LABEL]}
    if updated is not None:
        meta["lastUpdated"] = instant(updated)
    return meta


# --- directory ------------------------------------------------------------------------------


def practitioner(provider: Provider) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Practitioner",
        "id": str(provider.pk),
        "identifier": [{"system": system("provider"), "value": provider.slug}],
        "active": True,
        "name": [{"text": provider.name}],
    }
    if provider.credentials:
        resource["qualification"] = [{"code": {"text": provider.credentials}}]
    return resource


def _specialty(specialty: Any) -> dict[str, Any]:
    return {
        "coding": [
            {
                "system": system("CodeSystem/specialty"),
                "code": specialty.slug,
                "display": specialty.name,
            }
        ]
    }


def _kind(provider: Provider) -> dict[str, Any]:
    return {
        "coding": [
            {
                "system": system("CodeSystem/provider-kind"),
                "code": provider.kind,
                "display": provider.get_kind_display(),
            }
        ]
    }


def service_type(service: Service) -> dict[str, Any]:
    return {
        "coding": [
            {
                "system": system("CodeSystem/service-type"),
                "code": service.slug,
                "display": service.name,
            }
        ]
    }


def practitioner_role(provider: Provider) -> dict[str, Any]:
    """Needs provider.specialties, .licenses and .services prefetched."""
    return {
        "resourceType": "PractitionerRole",
        "id": str(provider.pk),
        "active": True,
        "practitioner": {"reference": f"Practitioner/{provider.pk}"},
        "code": [_kind(provider)],
        "specialty": [_specialty(s) for s in provider.specialties.all()],
        "healthcareService": [
            {"reference": f"HealthcareService/{s.pk}"}
            for s in provider.services.all()
            if s.is_active
        ],
        # The states the provider may see patients in (USPS codes).
        "extension": [
            {
                "url": system("StructureDefinition/licensed-state"),
                "valueCodeableConcept": {
                    "coding": [{"system": "https://www.usps.com/", "code": lic.state}]
                },
            }
            for lic in provider.licenses.all()
        ],
    }


def healthcare_service(service: Service) -> dict[str, Any]:
    provider = service.provider
    return {
        "resourceType": "HealthcareService",
        "id": str(service.pk),
        "active": service.is_active,
        "category": [_kind(provider)],
        "type": [service_type(service)],
        "specialty": [_specialty(s) for s in provider.specialties.all()],
        "name": service.name,
        "appointmentRequired": True,
        "characteristic": [
            {"coding": [{"system": system("CodeSystem/modality"), "code": m}]}
            for m in provider.modalities
        ],
        "extension": [
            {
                "url": system("StructureDefinition/practitioner"),
                "valueReference": {"reference": f"Practitioner/{provider.pk}"},
            }
        ],
    }


def schedule(service: Service) -> dict[str, Any]:
    return {
        "resourceType": "Schedule",
        "id": str(service.pk),
        "active": service.is_active,
        "serviceType": [service_type(service)],
        "actor": [
            {"reference": f"Practitioner/{service.provider_id}"},
            {"reference": f"HealthcareService/{service.pk}"},
        ],
        "comment": f"Visits of {service.duration_minutes} minutes, booked at least "
        f"{service.min_notice_hours} hours ahead, up to {service.horizon_days} days out.",
    }


def slot_id(service_id: int, start_us: int) -> str:
    return f"{service_id}-{start_us // 1_000_000}"


def slot(service: Service, start_us: int, end_us: int, seats: int) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Slot",
        "id": slot_id(service.pk, start_us),
        "schedule": {"reference": f"Schedule/{service.pk}"},
        "serviceType": [service_type(service)],
        "status": "free",
        "start": _us_instant(start_us),
        "end": _us_instant(end_us),
    }
    if service.capacity > 1:
        resource["comment"] = f"{seats} of {service.capacity} seats left"
    return resource


def _us_instant(value: int) -> str:
    return datetime.fromtimestamp(value / 1_000_000, tz=UTC).isoformat().replace("+00:00", "Z")


# --- appointments ---------------------------------------------------------------------------

A = AppointmentStatus
APPOINTMENT_STATUS = {
    A.REQUESTED: "pending",
    A.CONFIRMED: "booked",
    A.CANCELLED: "cancelled",
    A.ATTENDED: "fulfilled",
    A.NO_SHOW: "noshow",
}


def appointment(appt: Appointment, *, referral_ids: Sequence[str] = ()) -> dict[str, Any]:
    """Names the patient by reference only; the cancellation reason (free text) stays out."""
    resource: dict[str, Any] = {
        "resourceType": "Appointment",
        "id": str(appt.pk),
        "meta": part2_meta(appt.updated_at),
        "status": APPOINTMENT_STATUS[appt.status],  # type: ignore[index]
        "serviceType": [service_type(appt.service)],
        "start": instant(appt.start),
        "end": instant(appt.end),
        "minutesDuration": int((appt.end - appt.start).total_seconds() // 60),
        "created": instant(appt.created_at),
        "participant": [
            {
                "actor": {"reference": f"Practitioner/{appt.provider_id}"},
                "required": "required",
                "status": "accepted",
            },
            {
                "actor": {"reference": f"Patient/{appt.patient_id}"},
                "required": "required",
                "status": "accepted",
            },
            {
                "actor": {"reference": f"HealthcareService/{appt.service_id}"},
                "required": "information-only",
                "status": "accepted",
            },
        ],
    }
    if referral_ids:
        resource["basedOn"] = [{"reference": f"ServiceRequest/{pk}"} for pk in referral_ids]
    return resource


# --- referrals ------------------------------------------------------------------------------

R = ReferralStatus
SERVICE_REQUEST_STATUS = {
    R.NEW: "active",
    R.OFFERED: "active",
    R.ACCEPTED: "active",
    R.SCHEDULED: "active",
    R.DECLINED: "active",
    R.NO_SHOW: "active",
    R.ESCALATED: "active",
    R.COMPLETED: "completed",
    R.CANCELLED: "revoked",
}
# The referral workflow as FHIR task states (the exact Bridgeway status is businessStatus).
TASK_STATUS = {
    R.NEW: "requested",
    R.OFFERED: "received",
    R.ACCEPTED: "accepted",
    R.SCHEDULED: "in-progress",
    R.COMPLETED: "completed",
    R.DECLINED: "rejected",
    R.NO_SHOW: "failed",
    R.CANCELLED: "cancelled",
    R.ESCALATED: "on-hold",
}
PRIORITY = {Urgency.ROUTINE: "routine", Urgency.URGENT: "urgent"}


def contained_patient(referral: Referral) -> dict[str, Any]:
    telecom = [{"system": "phone", "value": referral.patient_phone, "use": "mobile"}]
    if referral.patient_email:
        telecom.append({"system": "email", "value": referral.patient_email})
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "id": "patient",
        "name": [{"text": referral.patient_name}],
        "telecom": telecom,
        "address": [{"state": referral.patient_state, "country": "US"}],
        "extension": [{"url": TZ_EXTENSION, "valueCode": referral.patient_timezone}],
    }
    return resource


def service_request(referral: Referral) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "ServiceRequest",
        "id": str(referral.pk),
        "meta": part2_meta(referral.updated_at),
        "contained": [contained_patient(referral)],
        "status": SERVICE_REQUEST_STATUS[referral.status],  # type: ignore[index]
        "intent": "order",
        "priority": PRIORITY.get(referral.urgency, "routine"),  # type: ignore[call-overload]
        "code": _specialty(referral.specialty),
        "subject": (
            {"reference": f"Patient/{referral.patient_id}"}
            if referral.patient_id
            else {"reference": "#patient"}
        ),
        "authoredOn": instant(referral.created_at),
        "requester": {"display": referral.referrer_name},
        "reasonCode": [{"text": referral.reason}],
    }
    if referral.notes:
        resource["note"] = [{"text": referral.notes}]
    if referral.provider_id:
        resource["performer"] = [{"reference": f"Practitioner/{referral.provider_id}"}]
    elif referral.preferred_provider_id:
        resource["performer"] = [{"reference": f"Practitioner/{referral.preferred_provider_id}"}]
    if referral.service_slug:
        resource["orderDetail"] = [
            {
                "coding": [
                    {"system": system("CodeSystem/service-type"), "code": referral.service_slug}
                ]
            }
        ]
    return resource


def task(referral: Referral) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Task",
        "id": str(referral.pk),
        "meta": part2_meta(referral.updated_at),
        "basedOn": [{"reference": f"ServiceRequest/{referral.pk}"}],
        "focus": {"reference": f"ServiceRequest/{referral.pk}"},
        "status": TASK_STATUS[referral.status],  # type: ignore[index]
        "businessStatus": {
            "coding": [
                {
                    "system": system("CodeSystem/referral-status"),
                    "code": referral.status,
                    "display": referral.get_status_display(),
                }
            ]
        },
        "intent": "order",
        "priority": PRIORITY.get(referral.urgency, "routine"),  # type: ignore[call-overload]
        "code": {
            "coding": [{"system": "http://hl7.org/fhir/CodeSystem/task-code", "code": "fulfill"}]
        },
        "authoredOn": instant(referral.created_at),
        "lastModified": instant(referral.updated_at),
        "restriction": {"period": {"end": instant(referral.deadline_at)}},
    }
    if referral.patient_id:
        resource["for"] = {"reference": f"Patient/{referral.patient_id}"}
    if referral.provider_id:
        resource["owner"] = {"reference": f"Practitioner/{referral.provider_id}"}
    if referral.appointment_id:
        resource["output"] = [
            {
                "type": {"text": "appointment"},
                "valueReference": {"reference": f"Appointment/{referral.appointment_id}"},
            }
        ]
    return resource


# --- envelopes ------------------------------------------------------------------------------


def bundle(
    entries: list[dict[str, Any]], *, self_url: str, next_url: str | None, total: int | None
) -> dict[str, Any]:
    links = [{"relation": "self", "url": self_url}]
    if next_url:
        links.append({"relation": "next", "url": next_url})
    result: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "searchset",
        "link": links,
        "entry": [
            {
                "fullUrl": f"{base_url()}/{e['resourceType']}/{e['id']}",
                "resource": e,
                "search": {"mode": "match"},
            }
            for e in entries
        ],
    }
    if total is not None:
        result["total"] = total
    return result


# HTTP status of the JSON API's error -> OperationOutcome issue code.
_ISSUE_CODES = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    406: "not-supported",
    409: "conflict",
    415: "not-supported",
    422: "processing",
    429: "throttled",
    503: "transient",
}


def operation_outcome(status: int, code: str, detail: str, fields: Any = None) -> dict[str, Any]:
    """The JSON API's {"code", "detail", "fields"} as an OperationOutcome: the Bridgeway
    code in details.coding, the fields (if any) as expression paths."""
    issue: dict[str, Any] = {
        "severity": "error",
        "code": _ISSUE_CODES.get(status, "exception" if status >= 500 else "processing"),
        "details": {
            "coding": [{"system": system("CodeSystem/error"), "code": code}],
            "text": detail,
        },
        "diagnostics": detail,
    }
    if isinstance(fields, dict) and fields:
        issue["expression"] = sorted(str(name) for name in fields)
    return {"resourceType": "OperationOutcome", "issue": [issue]}
