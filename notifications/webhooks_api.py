"""Staff API for outbound webhook endpoints: /api/webhooks/ and /api/webhooks/{id}/.

The secret is shown once, in the answer that creates the endpoint.
"""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from notifications import webhooks
from notifications.models import WebhookEndpoint


class EndpointInput(serializers.Serializer):
    url = serializers.CharField(max_length=500)
    events = serializers.ListField(child=serializers.CharField(max_length=64), allow_empty=False)
    secret = serializers.CharField(max_length=100, required=False, allow_blank=True)
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)


class EndpointUpdate(serializers.Serializer):
    url = serializers.CharField(max_length=500, required=False)
    events = serializers.ListField(child=serializers.CharField(max_length=64), required=False)
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)
    is_active = serializers.BooleanField(required=False)


def endpoint_data(endpoint: WebhookEndpoint) -> dict[str, Any]:
    return {
        "id": endpoint.pk,
        "url": endpoint.url,
        "events": endpoint.events,
        "description": endpoint.description,
        "is_active": endpoint.is_active,
        "consecutive_failures": endpoint.consecutive_failures,
        "disabled_at": endpoint.disabled_at.isoformat() if endpoint.disabled_at else None,
        "disabled_reason": endpoint.disabled_reason,
    }


class WebhookEndpointListView(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema(operation_id="webhooks_list", responses={200: dict})
    def get(self, request: Request) -> Response:
        return Response({"results": [endpoint_data(e) for e in WebhookEndpoint.objects.all()]})

    @extend_schema(request=EndpointInput, responses={201: dict})
    def post(self, request: Request) -> Response:
        values = EndpointInput(data=request.data)
        values.is_valid(raise_exception=True)
        endpoint = webhooks.register_endpoint(**values.validated_data)
        return Response({**endpoint_data(endpoint), "secret": endpoint.secret}, status=201)


class WebhookEndpointDetailView(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema(responses={200: dict})
    def get(self, request: Request, endpoint_id: int) -> Response:
        return Response(endpoint_data(get_object_or_404(WebhookEndpoint, pk=endpoint_id)))

    @extend_schema(request=EndpointUpdate, responses={200: dict})
    def patch(self, request: Request, endpoint_id: int) -> Response:
        endpoint = get_object_or_404(WebhookEndpoint, pk=endpoint_id)
        values = EndpointUpdate(data=request.data)
        values.is_valid(raise_exception=True)
        endpoint = webhooks.update_endpoint(endpoint=endpoint, **values.validated_data)
        return Response(endpoint_data(endpoint))

    @extend_schema(responses={204: None})
    def delete(self, request: Request, endpoint_id: int) -> Response:
        get_object_or_404(WebhookEndpoint, pk=endpoint_id).delete()
        return Response(status=204)
