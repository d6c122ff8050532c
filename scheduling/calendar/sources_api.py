"""GET/POST /api/providers/{slug}/calendars/: a provider's external calendars (issue 16).

The provider's own login or staff; anyone else signed in gets 404 not_found. Answers never
carry the URL (a secret address is a credential) or the password: only the host.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.errors import NotFound
from scheduling.booking.access import user_provider
from scheduling.calendar import sync
from scheduling.calendar.models import CalendarSource, SourceKind
from scheduling.models import Provider


class CalendarSourceSerializer(serializers.ModelSerializer):
    host = serializers.SerializerMethodField()

    class Meta:
        model = CalendarSource
        fields = [
            "id",
            "kind",
            "name",
            "host",
            "status",
            "last_synced_at",
            "last_error",
            "busy_count",
            "next_attempt_at",
            "created_at",
        ]

    def get_host(self, source: CalendarSource) -> str:
        return urlsplit(source.url).hostname or ""


class CalendarSourceInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=SourceKind.choices)
    url = serializers.CharField(max_length=2000)
    name = serializers.CharField(max_length=120, required=False, default="", allow_blank=True)
    username = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)
    password = serializers.CharField(
        max_length=500, required=False, default="", allow_blank=True, write_only=True
    )


def provider_for(request: Request, slug: str) -> Provider:
    """The provider whose calendars this request may see: its own login, or staff."""
    provider = Provider.objects.filter(slug=slug).first()
    user = request.user
    if provider is None or not user.is_active:
        raise NotFound()
    if user.is_staff:
        return provider
    own = user_provider(user)
    if own is None or own.pk != provider.pk:
        raise NotFound()
    return provider


class ProviderCalendarsView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses=CalendarSourceSerializer(many=True))
    def get(self, request: Request, slug: str) -> Response:
        provider = provider_for(request, slug)
        sources = CalendarSource.objects.filter(provider=provider).order_by("created_at")
        return Response(CalendarSourceSerializer(sources, many=True).data)

    @extend_schema(request=CalendarSourceInputSerializer, responses=CalendarSourceSerializer)
    def post(self, request: Request, slug: str) -> Response:
        provider = provider_for(request, slug)
        body = CalendarSourceInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data: dict[str, Any] = dict(body.validated_data)
        source = sync.add_source(provider=provider, **data)
        return Response(CalendarSourceSerializer(source).data, status=201)
