"""The waitlist API: join (POST /api/waitlist/), see your place and any held offer, take
it, or leave.

Who: joining is anyone's (rate limited like booking) with the same proof of possession as
a booking; the rest is the patient with the entry's own token (?token= or a "token" body
field), the provider signed in, or staff. Anyone else gets 404 with nothing that says it
exists. Answers carry what the request sent, never a stored name, and never anyone else.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.errors import DomainError, NotFound
from common.events import Actor
from common.tokens import token_matches
from notifications import verification
from scheduling.audit.models import AuditAction, AuditChannel
from scheduling.audit.requests import record
from scheduling.audit.services import Subject
from scheduling.booking import selectors
from scheduling.booking.access import request_token, user_provider
from scheduling.booking.links import appointment_for_token, manage_url
from scheduling.booking.patients import PatientDetails, normalize_phone
from scheduling.booking.serializers import (
    AwareDateTimeField,
    BookingPatientInputSerializer,
    StrictBooleanField,
)
from scheduling.booking.throttling import BookingRateThrottle
from scheduling.booking.views import busy_as_503, retrying
from scheduling.booking.waitlist import services
from scheduling.booking.waitlist.links import entry_url
from scheduling.booking.waitlist.models import WaitlistEntry

TOKEN = OpenApiParameter("token", str, OpenApiParameter.QUERY)


class WaitlistJoinInputSerializer(serializers.Serializer):
    provider = serializers.CharField(max_length=80)
    service = serializers.CharField(max_length=80)
    start = AwareDateTimeField(required=False, help_text="wait for a seat in this full session")
    before = AwareDateTimeField(required=False, help_text="wait for any earlier opening")
    patient = BookingPatientInputSerializer()
    sms_consent = StrictBooleanField()
    verification = serializers.CharField(max_length=200, required=False, allow_blank=True)
    referral_token = serializers.CharField(max_length=200, required=False, allow_blank=True)
    token = serializers.CharField(
        max_length=200,
        required=False,
        allow_blank=True,
        help_text="the manage token of your visit of this service: an earlier time moves it",
    )


class WaitlistJoinedSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    position = serializers.IntegerField()
    manage_url = serializers.CharField()


class WaitlistOfferSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()


class WaitlistEntrySerializer(serializers.Serializer):
    id = serializers.UUIDField()
    provider = serializers.CharField()
    service = serializers.CharField()
    start = serializers.DateTimeField(allow_null=True)
    before = serializers.DateTimeField(allow_null=True)
    status = serializers.CharField()
    position = serializers.IntegerField(allow_null=True)
    offer = WaitlistOfferSerializer(allow_null=True)


class WaitlistTakenSerializer(serializers.Serializer):
    booked = serializers.BooleanField()
    appointment = serializers.UUIDField(allow_null=True)
    manage_url = serializers.CharField(allow_null=True)
    detail = serializers.CharField()


@dataclass(frozen=True)
class EntryAccess:
    entry: WaitlistEntry
    actor: str

    @property
    def is_patient(self) -> bool:
        return self.actor == Actor.PATIENT


def resolve_entry_access(request: Any, entry_id: object) -> EntryAccess:
    try:
        pk = uuid.UUID(str(entry_id))
    except (TypeError, ValueError, AttributeError):
        raise NotFound() from None
    entry = (
        WaitlistEntry.objects.select_related("provider", "service", "patient").filter(pk=pk).first()
    )
    if entry is None:
        raise NotFound()
    token = request_token(request)
    if token is not None and token_matches(token, entry.manage_token_hash):
        return EntryAccess(entry, Actor.PATIENT)
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and user.is_active:
        if user.is_staff:
            return EntryAccess(entry, Actor.STAFF)
        provider = user_provider(user)
        if provider is not None and provider.pk == entry.provider_id:
            return EntryAccess(entry, Actor.PROVIDER)
    raise NotFound()


def entry_subject(entry: WaitlistEntry) -> Subject:
    return Subject("waitlist_entry", str(entry.pk), entry.patient_id)


def entry_body(entry: WaitlistEntry) -> dict[str, Any]:
    offer = services.held_offer(entry)
    return {
        "id": str(entry.pk),
        "provider": entry.provider.slug,
        "service": entry.service.slug,
        "start": entry.session_start.isoformat() if entry.session_start else None,
        "before": entry.before.isoformat() if entry.before else None,
        "status": entry.status,
        "position": services.position_of(entry),
        "offer": {"start": offer.start.isoformat(), "expires_at": offer.expires_at.isoformat()}
        if offer is not None
        else None,
    }


def _audit(request: Request, access: EntryAccess, action: str) -> None:
    record(
        request,
        channel=AuditChannel.API,
        role=access.actor,
        action=action,
        subjects=[entry_subject(access.entry)],
    )


class WaitlistJoinView(APIView):
    throttle_classes = [BookingRateThrottle]

    @extend_schema(
        request=WaitlistJoinInputSerializer,
        responses={201: WaitlistJoinedSerializer, 200: WaitlistJoinedSerializer},
    )
    def post(self, request: Request) -> Response:
        """Wait for a seat in a full session ("start") or an earlier time ("before")."""
        serializer = WaitlistJoinInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        values = serializer.validated_data
        user = request.user
        staff = user.is_authenticated and (user.is_staff or user_provider(user) is not None)
        actor = (Actor.STAFF if user.is_staff else Actor.PROVIDER) if staff else Actor.PATIENT

        def work() -> tuple[WaitlistEntry, bool]:
            service = selectors.get_bookable_service(
                provider_slug=values["provider"],
                service_slug=values["service"],
                state=values["patient"]["state"],
            )
            sent = values["patient"]
            details = PatientDetails(
                name=sent["name"],
                phone=sent["phone"],
                email=sent.get("email", ""),
                timezone=sent["timezone"],
                state=sent["state"],
            )
            visit = appointment_for_token(values.get("token"))
            if visit is not None and visit.service_id != service.pk:
                visit = None
            # A manage link was texted to its patient's phone: it proves possession like a code.
            possession = (
                staff
                or verification.proves(values.get("verification"), details.phone)
                or (visit is not None and visit.patient.phone == normalize_phone(details.phone))
            )
            return services.join_waitlist(
                service=service,
                patient=details,
                sms_consent=values["sms_consent"],
                possession=bool(possession),
                start=values.get("start"),
                before=values.get("before"),
                appointment=visit,
                referral_token=values.get("referral_token") or None,
                actor=actor,
                actor_user=user if staff else None,
            )

        with busy_as_503():
            entry, created = retrying(work)
        _audit(request, EntryAccess(entry, actor), AuditAction.CHANGE)
        body = {
            "id": str(entry.pk),
            "position": services.position_of(entry),
            "manage_url": entry_url(entry),
        }
        return Response(body, status=201 if created else 200)


class WaitlistDetailView(APIView):
    @extend_schema(parameters=[TOKEN], responses=WaitlistEntrySerializer)
    def get(self, request: Request, entry_id: str) -> Response:
        """Your place in line and the place held for you, if any."""
        access = resolve_entry_access(request, entry_id)
        _audit(request, access, AuditAction.VIEW)
        return Response(entry_body(access.entry))


class WaitlistLeaveView(APIView):
    @extend_schema(request=None, parameters=[TOKEN], responses=WaitlistEntrySerializer)
    def post(self, request: Request, entry_id: str) -> Response:
        """Leave the list; a place held for you goes to the next person."""
        access = resolve_entry_access(request, entry_id)
        with busy_as_503():
            entry = services.leave_waitlist(entry=access.entry)
        _audit(request, access, AuditAction.CHANGE)
        return Response(entry_body(entry))


class WaitlistAcceptView(APIView):
    @extend_schema(request=None, parameters=[TOKEN], responses=WaitlistTakenSerializer)
    def post(self, request: Request, entry_id: str) -> Response:
        """Take the place held for you: it is booked (or your visit moves to it)."""
        access = resolve_entry_access(request, entry_id)
        if not access.is_patient:
            raise DomainError(
                "permission_denied", "Only the person offered it takes it.", status=403
            )
        offer = services.held_offer(access.entry)
        if offer is None:
            raise DomainError(
                "offer_not_held", "No time is held for you now; you keep your place.", status=409
            )
        with busy_as_503():
            taken = retrying(lambda: services.accept_offer(offer=offer))
        _audit(request, access, AuditAction.CHANGE)
        if taken.appointment is None:
            raise DomainError("offer_taken", "Sorry, that time was taken.", status=409)
        return Response(
            {
                "booked": True,
                "appointment": str(taken.appointment.pk),
                "manage_url": manage_url(taken.appointment),
                "detail": "Booked.",
            }
        )
