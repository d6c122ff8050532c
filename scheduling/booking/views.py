"""The appointment API: book, show, cancel, reschedule, confirm, attendance.

Thin views: an input serializer validates the shape, one service call does the work, and
every refusal is a DomainError rendered as {"code", "detail", "fields"}.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from django.db import OperationalError
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.errors import DomainError
from common.events import Actor
from common.limits import client_address
from common.metrics import count_booking
from notifications import verification
from scheduling.audit.models import AuditAction, AuditChannel
from scheduling.audit.requests import record
from scheduling.audit.services import appointment_subject
from scheduling.booking import links, selectors, series, services
from scheduling.booking.access import Access, resolve_access
from scheduling.booking.idempotency import clean_key, client_scope, fingerprint, run_idempotent
from scheduling.booking.patients import validate_details
from scheduling.booking.serializers import (
    AppointmentAttendanceInputSerializer,
    AppointmentCancelInputSerializer,
    AppointmentRescheduleInputSerializer,
    BookingInputSerializer,
    appointment_body,
    series_body,
)
from scheduling.booking.throttling import BookingRateThrottle, enforce_provider_cap
from scheduling.models import Appointment, Series

BOOKING_SCOPE = "appointments.book"
RETRY_AFTER_SECONDS = "1"
# SQLite "database is locked", PostgreSQL lock timeout, deadlock, serialization failure.
_BUSY_SQLSTATES = {"55P03", "40P01", "40001"}


@contextmanager
def busy_as_503() -> Iterator[None]:
    """A database too busy to take the write is 503 `busy` with Retry-After, not a 500."""
    try:
        yield
    except OperationalError as exc:
        sqlstate = getattr(exc.__cause__, "sqlstate", None)
        if "locked" in str(exc) or sqlstate in _BUSY_SQLSTATES:
            raise DomainError(
                "busy",
                "The schedule is busy; retry in a moment.",
                status=503,
                headers={"Retry-After": RETRY_AFTER_SECONDS},
            ) from None
        raise


# PostgreSQL rolled the whole transaction back to break a deadlock, or could not serialize
# it: running it again gives the answer the race deserves (a 201 or a clean 409).
_RETRY_SQLSTATES = {"40P01", "40001"}
T = TypeVar("T")


def retrying(work: Callable[[], T], *, attempts: int = 3) -> T:
    for attempt in range(1, attempts + 1):
        try:
            return work()
        except OperationalError as exc:
            if (
                attempt == attempts
                or getattr(exc.__cause__, "sqlstate", None) not in _RETRY_SQLSTATES
            ):
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def _validated(serializer_class: type[Any], request: Request) -> Any:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer


def _request_actor(request: Request) -> tuple[str, Any]:
    user = request.user
    if user.is_authenticated and user.is_staff:
        return Actor.STAFF, user
    if user.is_authenticated and getattr(user, "provider", None) is not None:
        return Actor.PROVIDER, user
    return Actor.PATIENT, None


def _audit(
    request: Request,
    actor: str,
    action: str,
    appointment: Appointment,
    changes: dict[str, tuple[Any, Any]] | None = None,
) -> None:
    record(
        request,
        channel=AuditChannel.API,
        role=actor,
        action=action,
        subjects=[appointment_subject(appointment)],
        changes=changes,
    )


# What an appointment action may change, for the access log (the event row has the rest).
_LOGGED_FIELDS = ("status", "start", "end")


def _caller(request: Request) -> str:
    """Whose Idempotency-Key this is: the signed-in user, else the client's address."""
    if request.user.is_authenticated:
        return f"user:{request.user.pk}"
    return f"address:{client_address(request)}"


def _stored(body: Any) -> Any:
    # The stored answer keeps no working link: links are derived again on replay.
    if isinstance(body, dict) and "series" in body and "appointments" in body:
        return {
            **body,
            "series": _stored(body["series"]),
            "appointments": [_stored(a) for a in body["appointments"]],
        }
    if isinstance(body, dict) and "manage_url" in body:
        return {**body, "manage_url": None, "ics_url": None}
    return body


def _restored(body: Any) -> Any:
    if isinstance(body, dict) and "series" in body and "appointments" in body:
        found = Series.objects.filter(pk=body["series"].get("id")).first()
        links_of = (
            {"manage_url": links.series_manage_url(found), "ics_url": links.series_ics_url(found)}
            if found is not None
            else {}
        )
        ids = [a.get("id") for a in body["appointments"] if isinstance(a, dict)]
        visits = _by_id([pk for pk in ids if pk])  # one query, not one a visit
        return {
            **body,
            "series": {**body["series"], **links_of},
            "appointments": [_with_links(a, visits) for a in body["appointments"]],
        }
    if isinstance(body, dict) and "manage_url" in body and body.get("id"):
        return _with_links(body, _by_id([body["id"]]))
    return body


def _by_id(ids: list[Any]) -> dict[str, Appointment]:
    return {str(a.pk): a for a in Appointment.objects.filter(pk__in=ids)}


def _with_links(body: Any, appointments: dict[str, Appointment]) -> Any:
    """A stored appointment answer with its working links put back (they are not stored)."""
    if not isinstance(body, dict) or "manage_url" not in body:
        return body
    appointment = appointments.get(str(body.get("id")))
    if appointment is None:
        return body
    return {
        **body,
        "manage_url": links.manage_url(appointment),
        "ics_url": links.ics_url(appointment),
    }


class AppointmentCreateView(APIView):
    throttle_classes = [BookingRateThrottle]

    def finalize_response(self, request: Any, response: Any, *args: Any, **kwargs: Any) -> Any:
        """Count each answer's outcome (common.metrics): booked, or the refusal's code."""
        data = getattr(response, "data", None)
        code = data.get("code") if isinstance(data, dict) else None
        count_booking(
            "booked" if response.status_code == 201 else str(code or response.status_code)
        )
        return super().finalize_response(request, response, *args, **kwargs)

    @extend_schema(
        request=BookingInputSerializer,
        parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER)],
        responses={201: dict},
    )
    def post(self, request: Request) -> Response:
        key = clean_key(request.headers.get("Idempotency-Key"))
        data = request.data  # a malformed body is 400 malformed_request here
        serializer = _validated(BookingInputSerializer, request)
        actor, actor_user = _request_actor(request)

        def work() -> tuple[int, dict[str, Any]]:
            values = serializer.validated_data
            service = selectors.get_bookable_service(
                provider_slug=values["provider"],
                service_slug=values["service"],
                state=values["patient"]["state"],
            )
            details = serializer.patient_details()
            possession = actor != Actor.PATIENT or verification.proves(
                values["verification"], details.phone
            )
            if actor == Actor.PATIENT and (possession or values["referral_token"]):
                enforce_provider_cap(request, service.provider.slug)
            if values.get("repeat"):
                booked = series.book_series(
                    service=service,
                    start=values["start"],
                    every_weeks=values["repeat"]["every_weeks"],
                    count=values["repeat"]["count"],
                    on_conflict=values["on_conflict"],
                    patient=details,
                    sms_consent=values["sms_consent"],
                    possession=possession,
                    referral_token=values["referral_token"] or None,
                    actor=actor,
                    actor_user=actor_user,
                )
                record(
                    request,
                    channel=AuditChannel.API,
                    role=actor,
                    action=AuditAction.CHANGE,
                    subjects=[appointment_subject(a) for a in booked.appointments],
                )
                sent = validate_details(details)
                return 201, series_body(
                    booked.series,
                    booked.appointments,
                    with_links=True,
                    sent=sent,
                    skipped=booked.skipped,
                )
            appointment = services.book_appointment(
                service=service,
                start=values["start"],
                patient=details,
                sms_consent=values["sms_consent"],
                possession=possession,
                referral_token=values["referral_token"] or None,
                actor=actor,
                actor_user=actor_user,
            )
            sent = validate_details(details)
            _audit(request, actor, AuditAction.CHANGE, appointment)
            return 201, appointment_body(appointment, with_links=True, sent=sent)

        with busy_as_503():
            if key is None:
                status, body = retrying(work)
                return Response(body, status=status)
            status, body, replayed = retrying(
                lambda: run_idempotent(
                    scope=client_scope(BOOKING_SCOPE, client=_caller(request)),
                    key=key,
                    request_hash=fingerprint(data),
                    work=work,
                    redact=_stored,
                    restore=_restored,
                )
            )
        response = Response(body, status=status)
        if replayed:
            response["Idempotent-Replayed"] = "true"
        return response


class AppointmentDetailView(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("token", str, OpenApiParameter.QUERY)],
        responses={200: dict},
    )
    def get(self, request: Request, appointment_id: str) -> Response:
        access = resolve_access(request, appointment_id)
        body = appointment_body(access.appointment, with_links=access.is_patient)
        _audit(request, access.actor, AuditAction.VIEW, access.appointment)
        return Response(body)


class _AppointmentActionView(APIView):
    """POST on one appointment: find it for this request (or 404), validate, call one service."""

    input_serializer: type[Any] | None = None

    def act(self, access: Access, values: dict[str, Any]) -> Appointment:
        raise NotImplementedError

    def post(self, request: Request, appointment_id: str) -> Response:
        access = resolve_access(request, appointment_id)
        values: dict[str, Any] = {}
        if self.input_serializer is not None:
            values = dict(_validated(self.input_serializer, request).validated_data)
        before = {name: getattr(access.appointment, name) for name in _LOGGED_FIELDS}
        with busy_as_503():
            appointment = self.act(access, values)
        changes = {
            name: (old, getattr(appointment, name))
            for name, old in before.items()
            if getattr(appointment, name) != old
        }
        _audit(request, access.actor, AuditAction.CHANGE, appointment, changes)
        return Response(appointment_body(appointment, with_links=access.is_patient))


@extend_schema(request=AppointmentCancelInputSerializer, responses={200: dict})
class AppointmentCancelView(_AppointmentActionView):
    input_serializer = AppointmentCancelInputSerializer

    def act(self, access: Access, values: dict[str, Any]) -> Appointment:
        return services.cancel_appointment(
            appointment=access.appointment,
            actor=access.actor,
            actor_user=access.user,
            reason=values["reason"],
        )


@extend_schema(request=AppointmentRescheduleInputSerializer, responses={200: dict})
class AppointmentRescheduleView(_AppointmentActionView):
    input_serializer = AppointmentRescheduleInputSerializer

    def act(self, access: Access, values: dict[str, Any]) -> Appointment:
        return services.reschedule_appointment(
            appointment=access.appointment,
            start=values["start"],
            actor=access.actor,
            actor_user=access.user,
        )


@extend_schema(request=None, responses={200: dict})
class AppointmentConfirmView(_AppointmentActionView):
    def act(self, access: Access, values: dict[str, Any]) -> Appointment:
        return services.confirm_appointment(
            appointment=access.appointment, actor=access.actor, actor_user=access.user
        )


@extend_schema(request=AppointmentAttendanceInputSerializer, responses={200: dict})
class AppointmentAttendanceView(_AppointmentActionView):
    input_serializer = AppointmentAttendanceInputSerializer

    def act(self, access: Access, values: dict[str, Any]) -> Appointment:
        return services.record_attendance(
            appointment=access.appointment,
            status=values["status"],
            actor=access.actor,
            actor_user=access.user,
        )
