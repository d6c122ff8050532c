"""Directory and slot API: validate the query, call one selector, answer plain dicts."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from knox.auth import TokenAuthentication
from rest_framework import authentication, generics, permissions
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.errors import DomainError
from common.parsers import BoundedJSONParser
from scheduling.availability import selectors as availability
from scheduling.availability.slots import renderer
from scheduling.directory import import_directory, selectors
from scheduling.directory.serializers import (
    ProviderCardSerializer,
    ProviderProfileSerializer,
    SlotSerializer,
    parse_param,
    parse_search_params,
    parse_slot_params,
    parse_state,
)
from scheduling.models import Provider


class ProviderPagination(PageNumberPagination):
    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 100


def _string(name: str, description: str) -> OpenApiParameter:
    return OpenApiParameter(name, OpenApiTypes.STR, OpenApiParameter.QUERY, description=description)


SEARCH_PARAMETERS = [
    _string("specialty", "specialty slug"),
    _string("state", "USPS code of the state the patient is in; licensure is enforced"),
    _string("insurance", "insurance slug"),
    _string("language", "language code, e.g. es"),
    _string("modality", "video or phone"),
    _string("kind", "therapist, addiction_medicine, counselor, peer_coach or group_facilitator"),
    OpenApiParameter("accepting", OpenApiTypes.BOOL, OpenApiParameter.QUERY),
    _string("q", "words in the name, credentials or bio"),
]


class ProviderListView(generics.ListAPIView):
    """Search the directory; every result carries next_available of its first service."""

    pagination_class = ProviderPagination
    serializer_class = ProviderCardSerializer

    def get_queryset(self) -> QuerySet[Provider]:
        return selectors.search_providers(parse_search_params(self.request.query_params))

    @extend_schema(parameters=SEARCH_PARAMETERS)
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(selectors.provider_cards(page or []))


class ProviderDetailView(APIView):
    """A provider's public profile with its services."""

    @extend_schema(responses=ProviderProfileSerializer)
    def get(self, request: Request, slug: str) -> Response:
        return Response(selectors.provider_profile(selectors.get_provider(slug)))


class ProviderSlotsView(APIView):
    """Free slots of one service between two local dates (inclusive) in the tz asked for."""

    @extend_schema(
        parameters=[
            _string("service", "service slug; default the provider's first"),
            OpenApiParameter("start", OpenApiTypes.DATE, OpenApiParameter.QUERY),
            OpenApiParameter("end", OpenApiTypes.DATE, OpenApiParameter.QUERY),
            _string("tz", "IANA zone of the dates and answers; default the provider's"),
            _string("state", "USPS code; 400 not_licensed_in_state when not covered"),
        ],
        responses=SlotSerializer(many=True),
    )
    def get(self, request: Request, slug: str) -> Response:
        params = request.query_params
        provider, service, licensed = selectors.slot_target(
            slug, parse_param(params, "service"), parse_state(parse_param(params, "state"))
        )
        now = timezone.now()
        query = parse_slot_params(params, default_zone=provider.timezone, today=now)
        if not licensed:
            raise DomainError(
                "not_licensed_in_state",
                f"{provider.display_name} is not licensed to see patients in {query.state}.",
                fields={"state": query.state},
            )
        if service is None:
            raise DomainError(
                "unknown_service",
                f"{provider.display_name} offers no service {query.service!r}."
                if query.service
                else f"{provider.display_name} offers no bookable service.",
                fields={"service": query.service or ""},
            )
        found = availability.offered_spans(service, start=query.start, end=query.end, now=now)
        show = renderer(query.zone).from_us
        if service.is_group:
            body = [{"start": show(a), "end": show(b), "seats_left": n} for a, b, n in found]
        else:
            body = [{"start": show(a), "end": show(b)} for a, b, _ in found]
        return Response(body)


# POST /api/directory/import/: the import_directory command over HTTP, for staff.
class DirectoryImportView(APIView):
    # Token first so an anonymous caller gets 401 with WWW-Authenticate, not a bare 403.
    authentication_classes = [TokenAuthentication, authentication.SessionAuthentication]
    permission_classes = [permissions.IsAdminUser]
    parser_classes = [BoundedJSONParser]

    @extend_schema(
        summary="Import the provider directory (all or nothing)",
        request={"application/json": {"type": "object"}},
        responses={
            200: OpenApiResponse(description="Import summary: created/updated counts"),
            400: OpenApiResponse(
                description="malformed_request, or invalid_directory with every error in fields"
            ),
        },
    )
    def post(self, request: Request) -> Response:
        summary = import_directory(document=request.data)
        return Response(summary.as_dict())
