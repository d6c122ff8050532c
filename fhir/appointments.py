"""/fhir/Appointment: read, search, create (books through the booking service with all
its rules) and update (cancel, attendance, confirm, reschedule by status or start)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.db.models import Prefetch, QuerySet
from rest_framework.request import Request
from rest_framework.response import Response

from common.errors import DomainError, NotFound
from common.events import Actor
from fhir import mapping
from fhir.base import FhirView, audit, int_id
from fhir.params import (
    as_uuid,
    contained,
    date_range,
    page_of,
    person_from_patient,
    reference_id,
    updated,
)
from referrals.links import referral_token
from referrals.models import Referral
from referrals.selectors import visible_referrals
from scheduling.audit.models import AuditAction
from scheduling.audit.services import appointment_subject
from scheduling.booking import services as booking
from scheduling.booking.access import user_provider
from scheduling.booking.patients import PatientDetails
from scheduling.booking.throttling import BookingRateThrottle
from scheduling.booking.views import busy_as_503, retrying
from scheduling.models import Appointment, Service

# --- appointments ---------------------------------------------------------------------------


def visible_appointments(user: Any) -> QuerySet[Appointment]:
    """What the JSON API shows staff (everything), narrowed for a coordinator to the
    appointments booked from their organization's referrals."""
    qs = _with_referrals()
    if user.is_superuser:
        return qs
    coordinator = getattr(user, "coordinator", None)
    if coordinator is not None:
        return qs.filter(referrals__organization_id=coordinator.organization_id).distinct()
    if user.is_staff:
        return qs
    return qs.none()


def _with_referrals() -> QuerySet[Appointment]:
    return Appointment.objects.select_related("service").prefetch_related(
        Prefetch("referrals", queryset=Referral.objects.only("id", "appointment_id"))
    )


def _appointment(appt: Appointment) -> dict[str, Any]:
    return mapping.appointment(appt, referral_ids=[str(r.pk) for r in appt.referrals.all()])


def _request_actor(user: Any) -> tuple[str, Any]:
    """As the JSON API decides it (scheduling.booking.views): staff, a provider's login,
    else the caller books as a patient would, proving the phone with a referral."""
    if user.is_staff:
        return Actor.STAFF, user
    if user_provider(user) is not None:
        return Actor.PROVIDER, user
    return Actor.PATIENT, None


def _change_actor(user: Any, appt: Appointment) -> str:
    provider = user_provider(user)
    if not user.is_staff and provider is not None and provider.pk == appt.provider_id:
        return Actor.PROVIDER
    return Actor.STAFF  # staff, or the coordinator of the referral it was booked from


STATUS_FROM_FHIR = {fhir: ours for ours, fhir in mapping.APPOINTMENT_STATUS.items()}


class AppointmentView(FhirView):
    def get_throttles(self) -> list[Any]:
        if self.request.method == "POST":
            return [BookingRateThrottle()]
        return []

    def find(self, request: Request, resource_id: str) -> Appointment:
        pk = as_uuid(resource_id)
        appt = visible_appointments(request.user).filter(pk=pk).first() if pk else None
        if appt is None:
            raise NotFound(f"No Appointment {resource_id!r}.")
        return appt

    def get(self, request: Request, resource_id: str | None = None) -> Response:
        if resource_id is not None:
            appt = self.find(request, resource_id)
            audit(request, AuditAction.VIEW, [appointment_subject(appt)])
            return Response(_appointment(appt))
        params = request.query_params
        page = page_of(params)
        qs = visible_appointments(request.user).order_by("start", "pk")
        if params.get("patient"):
            qs = qs.filter(
                patient_id=int_id(reference_id(params["patient"], "Patient", "patient"), "Patient")
            )
        if params.get("practitioner"):
            qs = qs.filter(
                provider_id=int_id(
                    reference_id(params["practitioner"], "Practitioner", "practitioner"),
                    "Practitioner",
                )
            )
        if params.getlist("date"):
            window = date_range(params.getlist("date"), "date")
            if window.start is not None:
                qs = qs.filter(start__gte=window.start)
            if window.end is not None:
                qs = qs.filter(start__lt=window.end)
        if params.get("status"):
            wanted = [STATUS_FROM_FHIR.get(s) for s in params["status"].split(",")]
            qs = qs.filter(status__in=[s for s in wanted if s])
        total = qs.count()
        rows = list(qs[page.offset : page.offset + page.count])
        audit(request, AuditAction.LIST, [appointment_subject(a) for a in rows])
        return self.searchset(request, [_appointment(a) for a in rows], page=page, total=total)

    def post(self, request: Request) -> Response:
        body = request.data
        if not isinstance(body, dict) or body.get("resourceType") != "Appointment":
            raise DomainError(
                "invalid",
                "The body must be an Appointment.",
                fields={"resourceType": ["Appointment"]},
            )
        actor, actor_user = _request_actor(request.user)
        referral = self._referral(request, body)
        service, start = self._service_and_start(body)
        details, sms_consent = self._patient(body, referral)

        def work() -> Appointment:
            return booking.book_appointment(
                service=service,
                start=start,
                patient=details,
                sms_consent=sms_consent,
                possession=actor != Actor.PATIENT,
                referral_token=referral_token(referral) if referral is not None else None,
                actor=actor,
                actor_user=actor_user,
                consent_source="fhir",
            )

        with busy_as_503():
            appt = retrying(work)
        audit(request, AuditAction.CHANGE, [appointment_subject(appt)])
        appt = visible_appointments(request.user).filter(pk=appt.pk).first() or appt
        return self.resource(_appointment(appt), status=201)

    def _referral(self, request: Request, body: dict[str, Any]) -> Referral | None:
        based_on = body.get("basedOn") or []
        if not based_on:
            return None
        pk = as_uuid(reference_id(based_on[0], "ServiceRequest", "basedOn"))
        referral = visible_referrals(request.user).filter(pk=pk).first() if pk else None
        if referral is None:
            raise DomainError(
                "unknown_referral",
                "basedOn names no ServiceRequest you can see.",
                fields={"basedOn": ["Unknown ServiceRequest."]},
            )
        return referral

    def _service_and_start(self, body: dict[str, Any]) -> tuple[Service, Any]:
        service_id: str | None = None
        start = None
        slots = body.get("slot") or []
        if slots:
            slot_id = reference_id(slots[0], "Slot", "slot")
            service_id, _, seconds = slot_id.partition("-")
            try:
                start = datetime.fromtimestamp(int(seconds), tz=UTC)
            except (ValueError, OverflowError):
                raise DomainError(
                    "slot_unavailable", "That slot does not exist.", status=409
                ) from None
        for participant in body.get("participant") or []:
            ref = (participant.get("actor") or {}).get("reference", "")
            if ref.startswith("HealthcareService/"):
                service_id = service_id or ref.split("/", 1)[1]
        if body.get("start"):
            start = date_range([str(body["start"])], "start").start if start is None else start
        if service_id is None or start is None:
            raise DomainError(
                "invalid",
                "Name the visit by a Slot, or by a HealthcareService participant and a start.",
                fields={"slot": ["A slot, or a HealthcareService and start, is required."]},
            )
        try:
            service = Service.objects.select_related("provider").get(pk=int(service_id))
        except (ValueError, Service.DoesNotExist):
            raise DomainError(
                "unknown_service",
                f"No HealthcareService {service_id!r}.",
                fields={"slot": [service_id]},
            ) from None
        return service, start

    def _patient(
        self, body: dict[str, Any], referral: Referral | None
    ) -> tuple[PatientDetails, bool]:
        consent_url = mapping.system("StructureDefinition/sms-consent")
        for participant in body.get("participant") or []:
            ref = (participant.get("actor") or {}).get("reference", "")
            if ref.startswith("#"):
                patient = contained(body, ref)
                if patient is None:
                    raise DomainError(
                        "invalid", f"No contained resource {ref}.", fields={"participant": [ref]}
                    )
                person = person_from_patient(
                    patient, tz_url=mapping.TZ_EXTENSION, consent_url=consent_url
                )
                return (
                    PatientDetails(
                        name=person.name,
                        phone=person.phone,
                        email=person.email,
                        timezone=person.timezone,
                        state=person.state,
                    ),
                    person.sms_consent,
                )
        if referral is not None:
            return (
                PatientDetails(
                    name=referral.patient_name,
                    phone=referral.patient_phone,
                    email=referral.patient_email,
                    timezone=referral.patient_timezone,
                    state=referral.patient_state,
                ),
                referral.patient_sms_consent,
            )
        raise DomainError(
            "invalid",
            "Name the patient: a contained Patient as a participant, or basedOn a ServiceRequest.",
            fields={"participant": ["A patient is required."]},
        )

    def put(self, request: Request, resource_id: str) -> Response:
        return self.patch(request, resource_id)

    def patch(self, request: Request, resource_id: str) -> Response:
        appt = self.find(request, resource_id)
        current = _appointment(appt)
        wanted = updated(current, request.data)
        actor = _change_actor(request.user, appt)
        user = request.user
        status = wanted.get("status")
        target = STATUS_FROM_FHIR.get(status) if isinstance(status, str) else None
        if target is None:
            raise DomainError(
                "invalid",
                f"Unknown Appointment status {status!r}.",
                fields={"status": [str(status)]},
            )
        before = {"status": appt.status, "start": appt.start}
        with busy_as_503():
            if target != appt.status:
                if target == "cancelled":
                    reason = (wanted.get("cancelationReason") or {}).get("text", "")
                    appt = booking.cancel_appointment(
                        appointment=appt, actor=actor, actor_user=user, reason=reason
                    )
                elif target in ("attended", "no_show"):
                    appt = booking.record_attendance(
                        appointment=appt, status=target, actor=actor, actor_user=user
                    )
                elif target == "confirmed":
                    appt = booking.confirm_appointment(
                        appointment=appt, actor=actor, actor_user=user
                    )
                else:
                    raise DomainError(
                        "invalid_transition",
                        f"An appointment cannot be set back to {status}.",
                        status=409,
                        fields={"status": [str(status)]},
                    )
            elif wanted.get("start") != current["start"]:
                start = date_range([str(wanted.get("start"))], "start").start
                if start is None:
                    raise DomainError("invalid", "start is required.", fields={"start": []})
                appt = booking.reschedule_appointment(
                    appointment=appt, start=start, actor=actor, actor_user=user
                )
        changes = {k: (v, getattr(appt, k)) for k, v in before.items() if getattr(appt, k) != v}
        audit(request, AuditAction.CHANGE, [appointment_subject(appt)], changes=changes)
        # Not self.find(): cancelling unlinks a coordinator's referral, which would hide the
        # appointment they have just changed and answer 404 for a change that was made.
        return Response(_appointment(_with_referrals().get(pk=appt.pk)))
