"""POST /api/directory/import/: the import_directory command over HTTP, for staff."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import authentication, permissions
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from scheduling.directory import import_directory


class DirectoryImportView(APIView):
    # Token first so an anonymous caller gets 401 with WWW-Authenticate, not a bare 403.
    authentication_classes = [
        authentication.TokenAuthentication,
        authentication.SessionAuthentication,
    ]
    permission_classes = [permissions.IsAdminUser]
    parser_classes = [JSONParser]

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
