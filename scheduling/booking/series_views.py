"""The series API: show a series, cancel a visit and every later one.

Who: the patient with the series' own token (?token=, or a "token" body field), the
provider signed in, or staff; anyone else gets 404 with nothing that says it exists.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.errors import NotFound
from common.events import Actor
from common.tokens import token_matches
from scheduling.audit.models import AuditAction, AuditChannel
from scheduling.audit.requests import record
from scheduling.audit.services import appointment_subject
from scheduling.booking import series as series_services
from scheduling.booking.access import request_token, user_provider
from scheduling.booking.serializers import (
    SeriesCancelInputSerializer,
    SeriesMoveInputSerializer,
    series_body,
)
from scheduling.booking.views import busy_as_503
from scheduling.models import Appointment, Series


@dataclass(frozen=True)
class SeriesAccess:
    series: Series
    actor: str
    user: Any

    @property
    def is_patient(self) -> bool:
        return self.actor == Actor.PATIENT


def resolve_series_access(request: Any, series_id: object) -> SeriesAccess:
    """Load the series the request may act on, with the actor; else NotFound."""
    try:
        pk = uuid.UUID(str(series_id))
    except (TypeError, ValueError, AttributeError):
        raise NotFound() from None
    found = Series.objects.select_related("provider", "service", "patient").filter(pk=pk).first()
    if found is None:
        raise NotFound()
    token = request_token(request)
    if token is not None and token_matches(token, found.manage_token_hash):
        return SeriesAccess(found, Actor.PATIENT, None)
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and user.is_active:
        if user.is_staff:
            return SeriesAccess(found, Actor.STAFF, user)
        provider = user_provider(user)
        if provider is not None and provider.pk == found.provider_id:
            return SeriesAccess(found, Actor.PROVIDER, user)
    raise NotFound()


def visits_of(series: Series) -> list[Appointment]:
    return list(
        Appointment.objects.filter(series=series)
        .select_related("provider", "service", "patient")
        .order_by("start")
    )


def _audit(request: Request, access: SeriesAccess, action: str, visits: list) -> None:
    record(
        request,
        channel=AuditChannel.API,
        role=access.actor,
        action=action,
        subjects=[appointment_subject(v) for v in visits],
    )


class SeriesDetailView(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("token", str, OpenApiParameter.QUERY)],
        responses={200: dict},
    )
    def get(self, request: Request, series_id: str) -> Response:
        access = resolve_series_access(request, series_id)
        visits = visits_of(access.series)
        _audit(request, access, AuditAction.VIEW, visits)
        return Response(series_body(access.series, visits, with_links=access.is_patient))


class SeriesCancelView(APIView):
    @extend_schema(
        request=SeriesCancelInputSerializer,
        parameters=[OpenApiParameter("token", str, OpenApiParameter.QUERY)],
        responses={200: dict},
    )
    def post(self, request: Request, series_id: str) -> Response:
        """Cancel the visit starting at "from" and every later one, with one message."""
        access = resolve_series_access(request, series_id)
        serializer = SeriesCancelInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with busy_as_503():
            cancelled = series_services.cancel_series_from(
                series=access.series,
                start=serializer.validated_data["from"],
                actor=access.actor,
                actor_user=access.user,
                reason=serializer.validated_data["reason"],
            )
        _audit(request, access, AuditAction.CHANGE, cancelled)
        fresh = Series.objects.select_related("provider", "service", "patient").get(
            pk=access.series.pk
        )
        return Response(series_body(fresh, visits_of(fresh), with_links=access.is_patient))


class SeriesMoveView(APIView):
    @extend_schema(
        request=SeriesMoveInputSerializer,
        parameters=[OpenApiParameter("token", str, OpenApiParameter.QUERY)],
        responses={200: dict},
    )
    def post(self, request: Request, series_id: str) -> Response:
        """Move the visit at "from" to "start" and every later one alike, with one message."""
        access = resolve_series_access(request, series_id)
        serializer = SeriesMoveInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with busy_as_503():
            moved = series_services.move_series_from(
                series=access.series,
                start=serializer.validated_data["from"],
                to=serializer.validated_data["start"],
                actor=access.actor,
                actor_user=access.user,
            )
        _audit(request, access, AuditAction.CHANGE, moved)
        fresh = Series.objects.select_related("provider", "service", "patient").get(
            pk=access.series.pk
        )
        return Response(series_body(fresh, visits_of(fresh), with_links=access.is_patient))
