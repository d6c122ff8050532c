"""/fhir/metadata and the directory: Practitioner, PractitionerRole, HealthcareService,
Schedule, and Slot (computed by the slot engine for each request, never stored)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from rest_framework.request import Request
from rest_framework.response import Response

from common.errors import DomainError, NotFound
from fhir import mapping
from fhir.base import FhirView, int_id, page_slice
from fhir.params import (
    DateRange,
    date_range,
    page_of,
    reference_id,
    token_code,
)
from scheduling.availability import selectors as availability
from scheduling.directory.serializers import MAX_RANGE_DAYS
from scheduling.models import Provider, Service

# --- metadata -------------------------------------------------------------------------------

SEARCHES: dict[str, list[tuple[str, str]]] = {
    "Practitioner": [("identifier", "token")],
    "PractitionerRole": [("practitioner", "reference"), ("specialty", "token")],
    "HealthcareService": [("service-type", "token"), ("specialty", "token")],
    "Schedule": [("actor", "reference"), ("service-type", "token")],
    "Slot": [
        ("schedule", "reference"),
        ("service-type", "token"),
        ("start", "date"),
        ("status", "token"),
    ],
    "Appointment": [
        ("patient", "reference"),
        ("practitioner", "reference"),
        ("date", "date"),
        ("status", "token"),
    ],
    "ServiceRequest": [("status", "token"), ("patient", "reference")],
    "Task": [("focus", "reference"), ("status", "token"), ("owner", "reference")],
}
WRITES = {
    "Appointment": ["create", "update", "patch"],
    "ServiceRequest": ["create"],
    "Task": ["update", "patch"],
}


def capability_statement() -> dict[str, Any]:
    resources = []
    for name, searches in SEARCHES.items():
        interactions = ["read", "search-type", *WRITES.get(name, [])]
        resources.append(
            {
                "type": name,
                "interaction": [{"code": code} for code in interactions],
                "searchParam": [
                    {"name": param, "type": kind}
                    for param, kind in [*searches, ("_count", "number"), ("_offset", "number")]
                ],
            }
        )
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": "2026-12-01",
        "publisher": "Bridgeway",
        "kind": "instance",
        "software": {"name": "Bridgeway"},
        "implementation": {"description": "Bridgeway FHIR facade", "url": mapping.base_url()},
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json"],
        "rest": [
            {
                "mode": "server",
                "security": {
                    "cors": False,
                    "service": [
                        {
                            "coding": [
                                {
                                    "system": "http://terminology.hl7.org/CodeSystem/"
                                    "restful-security-service",
                                    "code": "OAuth",
                                }
                            ]
                        }
                    ],
                    "description": "Authorization: Bearer <token> from POST /o/token/ "
                    "(OAuth2 client credentials, scope fhir), or Token <API token>, of a staff "
                    "member or a referral coordinator (organization-scoped).",
                },
                "resource": resources,
            }
        ],
    }


class MetadataView(FhirView):
    public = True

    def get(self, request: Request) -> Response:
        return Response(capability_statement())


# --- directory ------------------------------------------------------------------------------


def _providers() -> QuerySet[Provider]:
    return Provider.objects.prefetch_related(
        "specialties",
        "licenses",
        Prefetch("services", queryset=Service.objects.order_by("position", "pk")),
    ).order_by("pk")


def _services() -> QuerySet[Service]:
    return (
        Service.objects.select_related("provider")
        .prefetch_related("provider__specialties")
        .order_by("pk")
    )


class _DirectoryView(FhirView):
    """Read and search over the public directory; no patient data."""

    build: Any = None

    def queryset(self) -> QuerySet[Any]:
        raise NotImplementedError

    def filtered(self, qs: QuerySet[Any], params: Any) -> QuerySet[Any]:
        return qs

    def get(self, request: Request, resource_id: str | None = None) -> Response:
        qs = self.queryset()
        if resource_id is not None:
            row = qs.filter(pk=int_id(resource_id, self.resource_type)).first()
            if row is None:
                raise NotFound(f"No {self.resource_type} {resource_id!r}.")
            return Response(type(self).build(row))
        page = page_of(request.query_params)
        qs = self.filtered(qs, request.query_params)
        total = qs.count()
        rows = list(qs[page.offset : page.offset + page.count])
        return self.searchset(request, [type(self).build(r) for r in rows], page=page, total=total)

    resource_type = ""


class PractitionerView(_DirectoryView):
    resource_type = "Practitioner"
    build = staticmethod(mapping.practitioner)

    def queryset(self) -> QuerySet[Any]:
        return Provider.objects.order_by("pk")

    def filtered(self, qs: QuerySet[Any], params: Any) -> QuerySet[Any]:
        if params.get("identifier"):
            qs = qs.filter(slug=token_code(params["identifier"]))
        return qs


class PractitionerRoleView(_DirectoryView):
    resource_type = "PractitionerRole"
    build = staticmethod(mapping.practitioner_role)

    def queryset(self) -> QuerySet[Any]:
        return _providers()

    def filtered(self, qs: QuerySet[Any], params: Any) -> QuerySet[Any]:
        if params.get("practitioner"):
            qs = qs.filter(
                pk=int_id(
                    reference_id(params["practitioner"], "Practitioner", "practitioner"),
                    "Practitioner",
                )
            )
        if params.get("specialty"):
            qs = qs.filter(specialties__slug=token_code(params["specialty"]))
        return qs


class HealthcareServiceView(_DirectoryView):
    resource_type = "HealthcareService"
    build = staticmethod(mapping.healthcare_service)

    def queryset(self) -> QuerySet[Any]:
        return _services()

    def filtered(self, qs: QuerySet[Any], params: Any) -> QuerySet[Any]:
        if params.get("service-type"):
            qs = qs.filter(slug=token_code(params["service-type"]))
        if params.get("specialty"):
            qs = qs.filter(provider__specialties__slug=token_code(params["specialty"]))
        return qs


class ScheduleView(_DirectoryView):
    resource_type = "Schedule"
    build = staticmethod(mapping.schedule)

    def queryset(self) -> QuerySet[Any]:
        return Service.objects.order_by("pk")

    def filtered(self, qs: QuerySet[Any], params: Any) -> QuerySet[Any]:
        if params.get("service-type"):
            qs = qs.filter(slug=token_code(params["service-type"]))
        actor = params.get("actor")
        if actor:
            kind = actor.rstrip("/").split("/")[-2] if "/" in actor else "Practitioner"
            pk = int_id(actor.rstrip("/").split("/")[-1], kind)
            qs = qs.filter(provider_id=pk) if kind == "Practitioner" else qs.filter(pk=pk)
        return qs


# --- slots ----------------------------------------------------------------------------------


def _slot_services(params: Any) -> list[Service]:
    qs = Service.objects.select_related("provider").filter(is_active=True).order_by("pk")
    if not params.get("schedule") and not params.get("service-type"):
        raise DomainError(
            "invalid",
            "Search slots by schedule or service-type.",
            fields={"schedule": ["schedule or service-type is required."]},
        )
    if params.get("schedule"):
        ids = [
            int_id(reference_id(v, "Schedule", "schedule"), "Schedule")
            for v in params["schedule"].split(",")
        ]
        qs = qs.filter(pk__in=ids)
    if params.get("service-type"):
        qs = qs.filter(slug__in=[token_code(v) for v in params["service-type"].split(",")])
    return list(qs[:50])


def slot_window(params: Any, now: Any) -> tuple[Any, Any]:
    found = date_range(params.getlist("start"), "start") if params.getlist("start") else DateRange()
    start = max(found.start or now, now)
    end = found.end or start + timedelta(days=14)
    if end - start > timedelta(days=MAX_RANGE_DAYS + 1):
        raise DomainError(
            "range_too_long",
            f"A slot search covers at most {MAX_RANGE_DAYS} days.",
            fields={"start": [f"At most {MAX_RANGE_DAYS} days."]},
        )
    return start, end


class SlotView(FhirView):
    """Slots are computed by the slot engine for each request, never stored."""

    def get(self, request: Request, resource_id: str | None = None) -> Response:
        now = timezone.now()
        if resource_id is not None:
            return Response(self.read(resource_id, now))
        params = request.query_params
        page = page_of(params)
        services = _slot_services(params)
        start, end = slot_window(params, now)
        status = params.get("status")
        entries: list[dict[str, Any]] = []
        if status in (None, "", "free"):
            spans = availability.offered_spans_of(services, start=start, end=end, now=now)
            for service in services:
                for a, b, seats in spans[service.pk]:
                    entries.append((a, service, b, seats))  # type: ignore[arg-type]
            entries.sort(key=lambda e: (e[0], e[1].pk))  # type: ignore[index]
        total = len(entries)
        shown = [
            mapping.slot(service, a, b, seats)
            for a, service, b, seats in page_slice(entries, page)  # type: ignore[misc]
        ]
        return self.searchset(request, shown, page=page, total=total)

    def read(self, resource_id: str, now: Any) -> dict[str, Any]:
        service_id, _, seconds = resource_id.partition("-")
        try:
            start = datetime.fromtimestamp(int(seconds), tz=UTC)
            service = Service.objects.select_related("provider").get(pk=int(service_id))
        except (ValueError, OverflowError, Service.DoesNotExist):
            raise NotFound(f"No Slot {resource_id!r}.") from None
        found = availability.offered_spans(
            service, start=start, end=start + timedelta(microseconds=1), now=now
        )
        if not found:
            raise NotFound(f"Slot {resource_id!r} is no longer free.")
        a, b, seats = found[0]
        return mapping.slot(service, a, b, seats)
