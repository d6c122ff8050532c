"""POST /api/verifications/ and /api/verifications/{id}/check/: proof of possession of a phone.

Starting one answers 202 with the same shape for every valid number, known or not, opted
out or not: the answer says nothing about who uses the service.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.limits import client_address
from notifications import verification


class StartInput(serializers.Serializer):
    phone = serializers.CharField(max_length=40)


class CheckInput(serializers.Serializer):
    code = serializers.CharField(max_length=12)


class VerificationStartView(APIView):
    authentication_classes: list[type] = []

    @extend_schema(request=StartInput, responses={202: dict})
    def post(self, request: Request) -> Response:
        values = StartInput(data=request.data)
        values.is_valid(raise_exception=True)
        started = verification.start_verification(
            phone=values.validated_data["phone"], client=client_address(request)
        )
        return Response(
            {"id": str(started.id), "expires_at": started.expires_at.isoformat()}, status=202
        )


class VerificationCheckView(APIView):
    authentication_classes: list[type] = []

    @extend_schema(request=CheckInput, responses={200: dict})
    def post(self, request: Request, verification_id: str) -> Response:
        values = CheckInput(data=request.data)
        values.is_valid(raise_exception=True)
        token = verification.check_code(
            verification_id=verification_id,
            code=values.validated_data["code"],
            client=client_address(request),
        )
        return Response({"verification": token})
