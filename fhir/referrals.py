"""/fhir/ServiceRequest (a referral; create makes one) and /fhir/Task (its workflow status,
moved by updating `status`)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from rest_framework.request import Request
from rest_framework.response import Response

from common.errors import DomainError, NotFound
from fhir import mapping
from fhir.base import FhirView, audit, int_id
from fhir.params import (
    as_uuid,
    contained,
    page_of,
    person_from_patient,
    reference_id,
    updated,
)
from referrals import services as referral_services
from referrals.access import referral_subject
from referrals.models import Referral, ReferralStatus
from referrals.selectors import visible_referrals
from scheduling.audit.models import AuditAction
from scheduling.models import Provider

# --- referrals ------------------------------------------------------------------------------

SR_STATUS_FILTER = {
    "active": [s for s, v in mapping.SERVICE_REQUEST_STATUS.items() if v == "active"],
    "completed": [ReferralStatus.COMPLETED],
    "revoked": [ReferralStatus.CANCELLED],
}
TASK_STATUS_FILTER: dict[str, list[str]] = {}
for _ours, _theirs in mapping.TASK_STATUS.items():
    TASK_STATUS_FILTER.setdefault(_theirs, []).append(_ours)


def _referrals(user: Any) -> QuerySet[Referral]:
    return visible_referrals(user).order_by("created_at", "pk")


class _ReferralView(FhirView):
    build: Any = None
    resource_type = ""

    def find(self, request: Request, resource_id: str) -> Referral:
        pk = as_uuid(resource_id)
        referral = _referrals(request.user).filter(pk=pk).first() if pk else None
        if referral is None:
            raise NotFound(f"No {self.resource_type} {resource_id!r}.")
        return referral

    def filtered(self, qs: QuerySet[Referral], params: Any) -> QuerySet[Referral]:
        return qs

    def get(self, request: Request, resource_id: str | None = None) -> Response:
        if resource_id is not None:
            referral = self.find(request, resource_id)
            audit(request, AuditAction.VIEW, [referral_subject(referral)])
            return Response(type(self).build(referral))
        page = page_of(request.query_params)
        qs = self.filtered(_referrals(request.user), request.query_params)
        total = qs.count()
        rows = list(qs[page.offset : page.offset + page.count])
        audit(request, AuditAction.LIST, [referral_subject(r) for r in rows])
        return self.searchset(request, [type(self).build(r) for r in rows], page=page, total=total)


class ServiceRequestView(_ReferralView):
    resource_type = "ServiceRequest"
    build = staticmethod(mapping.service_request)

    def filtered(self, qs: QuerySet[Referral], params: Any) -> QuerySet[Referral]:
        if params.get("status"):
            statuses = [s for v in params["status"].split(",") for s in SR_STATUS_FILTER.get(v, [])]
            qs = qs.filter(status__in=statuses)
        if params.get("patient"):
            qs = qs.filter(
                patient_id=int_id(reference_id(params["patient"], "Patient", "patient"), "Patient")
            )
        return qs

    def post(self, request: Request) -> Response:
        body = request.data
        if not isinstance(body, dict) or body.get("resourceType") != "ServiceRequest":
            raise DomainError(
                "invalid",
                "The body must be a ServiceRequest.",
                fields={"resourceType": ["ServiceRequest"]},
            )
        subject = (body.get("subject") or {}).get("reference", "")
        patient = contained(body, subject)
        if patient is None:
            raise DomainError(
                "invalid",
                "subject must reference a contained Patient (#id) with name, phone, state and zone.",
                fields={"subject": ["A contained Patient is required."]},
            )
        person = person_from_patient(
            patient,
            tz_url=mapping.TZ_EXTENSION,
            consent_url=mapping.system("StructureDefinition/sms-consent"),
        )
        codings = (body.get("code") or {}).get("coding") or [{}]
        specialty = codings[0].get("code", "")
        reasons = body.get("reasonCode") or [{}]
        reason = reasons[0].get("text") or ""
        if not reason:
            raise DomainError(
                "invalid", "reasonCode[0].text is required.", fields={"reasonCode": ["Required."]}
            )
        details = body.get("orderDetail") or [{}]
        service = ((details[0].get("coding") or [{}])[0]).get("code", "")
        preferences: dict[str, Any] = {}
        performers = body.get("performer") or []
        if performers:
            pk = int_id(reference_id(performers[0], "Practitioner", "performer"), "Practitioner")
            slug = Provider.objects.filter(pk=pk).values_list("slug", flat=True).first()
            if slug is None:
                raise DomainError(
                    "unknown_provider", f"No Practitioner {pk}.", fields={"performer": [str(pk)]}
                )
            preferences["provider"] = slug
        requester = (body.get("requester") or {}).get("display") or ""
        if not requester:
            raise DomainError(
                "invalid",
                "requester.display (the referrer) is required.",
                fields={"requester": ["Required."]},
            )
        referral = referral_services.create_referral(
            created_by=request.user,
            patient={
                "name": person.name,
                "phone": person.phone,
                "email": person.email,
                "timezone": person.timezone,
                "state": person.state,
                "sms_consent": person.sms_consent,
            },
            referrer={"name": requester},
            reason=reason,
            notes=" ".join(n.get("text", "") for n in body.get("note") or []).strip(),
            specialty=specialty,
            service=service,
            urgency="urgent" if body.get("priority") in ("urgent", "asap", "stat") else "routine",
            preferences=preferences,
        )
        audit(request, AuditAction.CHANGE, [referral_subject(referral)])
        return self.resource(
            mapping.service_request(self.find(request, str(referral.pk))), status=201
        )


class TaskView(_ReferralView):
    """The referral's workflow. Updating `status` moves it: received (offer to `owner`, or
    to the best matches), accepted and rejected (for `owner`, with statusReason.text),
    cancelled. in-progress, completed and failed follow the appointment."""

    resource_type = "Task"
    build = staticmethod(mapping.task)

    def filtered(self, qs: QuerySet[Referral], params: Any) -> QuerySet[Referral]:
        if params.get("status"):
            statuses = [
                s for v in params["status"].split(",") for s in TASK_STATUS_FILTER.get(v, [])
            ]
            qs = qs.filter(status__in=statuses)
        if params.get("focus"):
            qs = qs.filter(pk=reference_id(params["focus"], "ServiceRequest", "focus"))
        if params.get("owner"):
            qs = qs.filter(
                provider_id=int_id(
                    reference_id(params["owner"], "Practitioner", "owner"), "Practitioner"
                )
            )
        return qs

    def put(self, request: Request, resource_id: str) -> Response:
        return self.patch(request, resource_id)

    def patch(self, request: Request, resource_id: str) -> Response:
        referral = self.find(request, resource_id)
        current = mapping.task(referral)
        wanted = updated(current, request.data)
        status = wanted.get("status")
        user = request.user
        owner = None
        if wanted.get("owner") and wanted.get("owner") != current.get("owner"):
            pk = int_id(reference_id(wanted["owner"], "Practitioner", "owner"), "Practitioner")
            owner = Provider.objects.filter(pk=pk).first()
            if owner is None:
                raise DomainError(
                    "unknown_provider", f"No Practitioner {pk}.", fields={"owner": [str(pk)]}
                )
        reason = (wanted.get("statusReason") or {}).get("text", "")
        if status == current["status"] and owner is None:
            return Response(current)
        if status == "received":
            referral_services.assign_referral(
                referral=referral, providers=[owner] if owner else None, actor_user=user
            )
        elif status in ("accepted", "rejected"):
            if status == "rejected" and not reason.strip():
                # As the JSON API's decline: the reason goes back to the coordinator.
                raise DomainError(
                    "invalid",
                    "Say why in statusReason.text.",
                    fields={"statusReason": ["A reason is required to decline."]},
                )
            provider = owner or self._only_offer(referral)
            if status == "accepted":
                referral_services.accept_referral(
                    referral=referral, provider=provider, actor_user=user
                )
            else:
                referral_services.decline_referral(
                    referral=referral, provider=provider, reason=reason, actor_user=user
                )
        elif status == "cancelled":
            referral_services.cancel_referral(referral=referral, reason=reason, actor_user=user)
        else:
            raise DomainError(
                "invalid_transition",
                f"Task status {status!r} is not set directly: in-progress, completed and failed "
                "follow the appointment (book it, then record attendance).",
                status=409,
                fields={"status": [str(status)]},
            )
        referral = self.find(request, resource_id)
        audit(request, AuditAction.CHANGE, [referral_subject(referral)])
        return Response(mapping.task(referral))

    def _only_offer(self, referral: Referral) -> Provider:
        providers = referral_services.offered_providers(referral)
        if len(providers) != 1:
            raise DomainError(
                "invalid",
                "Name the provider answering as Task.owner.",
                fields={"owner": ["Required when the referral is offered to several providers."]},
            )
        return providers[0]
