"""One exception handler: every API error is {"code", "detail", "fields"}."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import (
    PermissionDenied,
    RequestDataTooBig,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.http import Http404
from django.http.multipartparser import MultiPartParserError
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from common.errors import DomainError

_CODES = {
    status.HTTP_400_BAD_REQUEST: "invalid",
    status.HTTP_401_UNAUTHORIZED: "not_authenticated",
    status.HTTP_403_FORBIDDEN: "permission_denied",
    status.HTTP_404_NOT_FOUND: "not_found",
    status.HTTP_405_METHOD_NOT_ALLOWED: "method_not_allowed",
    status.HTTP_406_NOT_ACCEPTABLE: "not_acceptable",
    status.HTTP_413_REQUEST_ENTITY_TOO_LARGE: "request_too_large",
    status.HTTP_415_UNSUPPORTED_MEDIA_TYPE: "unsupported_media_type",
    status.HTTP_429_TOO_MANY_REQUESTS: "rate_limited",
}


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "request_too_large"


def as_api_exception(exc: Exception) -> Exception:
    """Django's refusals to read a request body, as API errors (else `exc` unchanged):
    a body over DATA_UPLOAD_MAX_MEMORY_SIZE is 413, too many fields a malformed request."""
    if isinstance(exc, RequestDataTooBig):
        return RequestTooLarge()
    if isinstance(exc, TooManyFieldsSent | TooManyFilesSent | MultiPartParserError):
        return exceptions.ParseError(str(exc))
    return exc


def _flatten(detail: Any) -> Any:
    if isinstance(detail, dict):
        return {key: _flatten(value) for key, value in detail.items()}
    if isinstance(detail, list):
        return [_flatten(item) for item in detail]
    return str(detail)


def error_body(code: str, detail: str, fields: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"code": code, "detail": detail, "fields": fields or {}}


def api_error_body(exc: exceptions.APIException) -> dict[str, Any]:
    """The envelope of an API exception other than a ValidationError."""
    if isinstance(exc, exceptions.ParseError):
        return error_body("malformed_request", str(exc.detail))
    return error_body(_CODES.get(exc.status_code, "error"), str(exc.detail))


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    exc = as_api_exception(exc)
    if isinstance(exc, DomainError):
        return Response(
            error_body(exc.code, exc.detail, exc.fields), status=exc.status, headers=exc.headers
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        return response

    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        if isinstance(fields, list):
            fields = {"non_field_errors": fields}
        response.data = error_body("invalid", "The request has invalid fields.", fields)
    else:
        response.data = api_error_body(exc)
    return response
