"""The FHIR R4 facade at /fhir/: thin views over the same selectors and services as the
JSON API, answering application/fhir+json. This module holds what every view shares.

Errors are the JSON API's own (common.api.exception_handler decides the HTTP status and
the Bridgeway code), re-dressed as an OperationOutcome. Searches are paginated Bundles
(`_count`, `_offset`, a `next` link). Callers sign in with an API token (knox), a session,
or an OAuth2 client-credentials token (fhir.auth): staff, superusers and referral
coordinators; a coordinator sees the referrals of their organization and the appointments
booked from them, and anything else is 404.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import urlencode

from knox.auth import TokenAuthentication
from rest_framework import exceptions
from rest_framework.authentication import SessionAuthentication
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import JSONParser
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.api import exception_handler as json_exception_handler
from common.errors import NotFound
from fhir import mapping
from fhir.auth import ClientCredentialsAuthentication
from fhir.params import Page
from referrals.access import audit_role, is_coordinating
from scheduling.audit.models import AuditChannel
from scheduling.audit.requests import record

FHIR_JSON = "application/fhir+json"


class FhirRenderer(JSONRenderer):
    media_type = FHIR_JSON
    format = "fhir"
    charset = "utf-8"


class FhirParser(JSONParser):
    media_type = FHIR_JSON


class JsonPatchParser(JSONParser):
    media_type = "application/json-patch+json"


class AlwaysFhir(BaseContentNegotiation):
    """Every answer is FHIR JSON, whatever the Accept header (`_format` is ignored)."""

    def select_parser(self, request: Request, parsers: Any) -> Any:
        content_type = (request.content_type or "").split(";")[0].strip()
        for parser in parsers:
            if parser.media_type == content_type:
                return parser
        return None

    def select_renderer(self, request: Request, renderers: Any, format_suffix: Any = None) -> Any:
        return renderers[0], renderers[0].media_type


def _outcome(response: Response) -> Response:
    data = response.data if isinstance(response.data, dict) else {}
    response.data = mapping.operation_outcome(
        response.status_code,
        str(data.get("code", "error")),
        str(data.get("detail", "")),
        data.get("fields"),
    )
    return response


class FhirView(APIView):
    authentication_classes = [
        SessionAuthentication,
        TokenAuthentication,
        ClientCredentialsAuthentication,
    ]
    renderer_classes = [FhirRenderer]
    schema = None  # FHIR describes itself (/fhir/metadata), not in the OpenAPI document
    parser_classes = [FhirParser, JSONParser, JsonPatchParser]
    content_negotiation_class = AlwaysFhir
    public = False

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if self.public:
            return
        user = request.user
        if not getattr(user, "is_authenticated", False):
            raise exceptions.NotAuthenticated()
        if not is_coordinating(user):
            raise exceptions.PermissionDenied()

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
            response = Response(
                {"code": "not_authenticated", "detail": str(exc.detail)},
                status=401,
                headers={"WWW-Authenticate": 'Bearer realm="fhir"'},
            )
        else:
            found = json_exception_handler(exc, self.get_exception_handler_context())
            if found is None:
                raise exc
            response = found
        response.exception = True
        return _outcome(response)

    def get_exception_handler(self) -> Any:
        return json_exception_handler

    # --- helpers ---

    def resource(self, body: dict[str, Any], status: int = 200) -> Response:
        headers = {}
        if status == 201:
            headers["Location"] = f"{mapping.base_url()}/{body['resourceType']}/{body['id']}"
        return Response(body, status=status, headers=headers)

    def searchset(
        self, request: Request, entries: list[dict[str, Any]], *, page: Page, total: int
    ) -> Response:
        path = f"{mapping.base_url()}/{request.path.split('/fhir/', 1)[-1]}"
        params = [(k, v) for k, values in request.query_params.lists() for v in values]
        kept = [(k, v) for k, v in params if k not in ("_count", "_offset")]

        def url(offset: int) -> str:
            query = urlencode([*kept, ("_count", page.count), ("_offset", offset)])
            return f"{path}?{query}"

        next_url = url(page.offset + page.count) if page.offset + page.count < total else None
        return Response(
            mapping.bundle(entries, self_url=url(page.offset), next_url=next_url, total=total)
        )


def page_slice(items: list[Any], page: Page) -> list[Any]:
    return items[page.offset : page.offset + page.count]


def int_id(value: str, resource_type: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise NotFound(f"No {resource_type} {value!r}.") from None


def audit(
    request: Request,
    action: str,
    subjects: Iterable[Any],
    *,
    changes: dict[str, tuple[Any, Any]] | None = None,
) -> None:
    role, organization_id = audit_role(request.user, coordinating=True)
    record(
        request,
        channel=AuditChannel.API,
        role=role,
        action=action,
        subjects=subjects,
        organization_id=organization_id,
        changes=changes,
    )
