"""Calendar downloads: an appointment's invite and a provider's private feed."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.utils.cache import get_conditional_response
from django.utils.http import http_date
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.request import Request
from rest_framework.views import APIView

from common.errors import DomainError
from scheduling.audit.models import AuditAction, AuditChannel, AuditRole
from scheduling.audit.requests import record
from scheduling.audit.services import Subject, appointment_subject
from scheduling.booking.access import resolve_access
from scheduling.calendar import feeds
from scheduling.calendar import invites as ical
from scheduling.calendar.series import occurrence_invite, series_invite

CALENDAR_TYPE = "text/calendar; charset=utf-8"


def _not_found() -> HttpResponse:
    # No body: nothing tells a guesser whether the token or the appointment was wrong.
    return HttpResponse(b"", status=404, content_type="text/plain; charset=utf-8")


class _CalendarNegotiation(BaseContentNegotiation):
    """The answer is text/calendar whatever Accept says; errors use the first renderer."""

    def select_parser(self, request: Request, parsers: Any) -> Any:
        return parsers[0]

    def select_renderer(
        self, request: Request, renderers: Any, format_suffix: Any = None
    ) -> tuple[Any, str]:
        return renderers[0], renderers[0].media_type


class AppointmentInviteView(APIView):
    content_negotiation_class = _CalendarNegotiation

    @extend_schema(
        operation_id="appointment_invite",
        parameters=[OpenApiParameter("token", str, description="the patient's manage token")],
        responses={
            (200, "text/calendar"): OpenApiResponse(
                OpenApiTypes.BINARY, description="METHOD:REQUEST, or METHOD:CANCEL once cancelled"
            ),
            404: OpenApiResponse(description="unknown appointment or wrong token (empty body)"),
        },
    )
    def get(self, request: Request, appointment_id: str) -> HttpResponseBase:
        """The appointment's current invite as an .ics download."""
        try:
            access = resolve_access(request, appointment_id)
        except DomainError:
            return _not_found()
        appointment = access.appointment
        if appointment.series_id is not None:  # the same entry (UID) the series' emails add
            body, _method = occurrence_invite(appointment, sealed=False)
        else:
            body, _method = ical.invite_for(appointment)
        record(
            request,
            channel=AuditChannel.CALENDAR,
            role=access.actor,
            action=AuditAction.EXPORT,
            subjects=[appointment_subject(appointment)],
        )
        response = HttpResponse(body, content_type=CALENDAR_TYPE)
        response["Content-Disposition"] = (
            f'attachment; filename="{ical.invite_filename(appointment)}"'
        )
        response["Cache-Control"] = "private, no-store"
        response["X-Robots-Tag"] = "noindex, nofollow"
        return response


def _feed_headers(response: HttpResponseBase, state: feeds.FeedState) -> None:
    response["ETag"] = state.etag
    response["Last-Modified"] = http_date(state.last_modified.timestamp())
    # Private: the feed names patients. no-cache: revalidate (cheaply, by ETag) every time.
    response["Cache-Control"] = "private, no-cache"
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"


# Read-only; exempt so a PUT or POST gets 405 from the method check, not a CSRF 403.
@csrf_exempt
@require_http_methods(["GET", "HEAD"])
def provider_feed(request: HttpRequest, token: str) -> HttpResponseBase:
    """A provider's private feed; 304 when the client's copy is current."""
    opened = feeds.open_feed(token.removesuffix(".ics")) if token.endswith(".ics") else None
    if opened is None:
        return _not_found()
    provider, state = opened
    not_modified = get_conditional_response(
        request, etag=state.etag, last_modified=int(state.last_modified.timestamp())
    )
    if not_modified is not None:
        _feed_headers(not_modified, state)
        return not_modified
    rendered = feeds.render_feed(provider, state)
    if request.method == "GET":  # a HEAD shows no names
        # The token stands for the provider: the log has the role and path, not a login.
        record(
            request,
            channel=AuditChannel.CALENDAR,
            role=AuditRole.PROVIDER,
            action=AuditAction.EXPORT,
            subjects=[Subject("appointment", a, p) for a, p in rendered.shown],
        )
    response = HttpResponse(rendered.body, content_type=CALENDAR_TYPE)
    response["Content-Disposition"] = 'inline; filename="appointments.ics"'
    _feed_headers(response, state)
    return response


class SeriesInviteView(APIView):
    content_negotiation_class = _CalendarNegotiation

    @extend_schema(
        operation_id="series_invite",
        parameters=[OpenApiParameter("token", str, description="the patient's series token")],
        responses={
            (200, "text/calendar"): OpenApiResponse(
                OpenApiTypes.BINARY, description="one VEVENT with RRULE, EXDATE and exceptions"
            ),
            404: OpenApiResponse(description="unknown series or wrong token (empty body)"),
        },
    )
    def get(self, request: Request, series_id: str) -> HttpResponseBase:
        """The series' current calendar entry as an .ics download."""
        from scheduling.booking.series_views import resolve_series_access, visits_of

        try:
            access = resolve_series_access(request, series_id)
        except DomainError:
            return _not_found()
        visits = visits_of(access.series)
        record(
            request,
            channel=AuditChannel.CALENDAR,
            role=access.actor,
            action=AuditAction.EXPORT,
            subjects=[appointment_subject(v) for v in visits],
        )
        response = HttpResponse(series_invite(access.series, visits), content_type=CALENDAR_TYPE)
        response["Content-Disposition"] = 'attachment; filename="appointments.ics"'
        response["Cache-Control"] = "private, no-store"
        response["X-Robots-Tag"] = "noindex, nofollow"
        return response
