"""Refuse a NUL character anywhere in a request before any view or query sees it.

PostgreSQL text cannot hold NUL, so one that reaches a query is a 500: an admin or API
filter, a path the admin looks up, a session cookie (cookie parsing turns a quoted
`\\000` into NUL), an Authorization token. No input of ours needs one. Under /api/ the
answer is the API's error envelope; elsewhere Django's 400 page. A path with a NUL
names nothing: 404.

Reading the parameters here also reads a form body; under /api/ a body Django refuses
(too large, too many fields) is answered in the envelope too, 413 request_too_large when
too large, instead of Django's HTML 400.
"""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import BadRequest, SuspiciousOperation
from django.http import HttpRequest, HttpResponse, HttpResponseNotFound, JsonResponse
from django.http.multipartparser import MultiPartParserError
from rest_framework.exceptions import APIException

from common.api import api_error_body, as_api_exception, error_body

# The JSON API and the FHIR facade answer errors in JSON.
API_PREFIXES = ("/api/", "/fhir/")
NUL = "\x00"
NUL_MESSAGE = "Null characters are not allowed."


def is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith(API_PREFIXES)


def _holding_nul(request: HttpRequest) -> str | None:
    """The name of the first parameter, form field, cookie or header that holds a NUL."""
    for params in (request.GET, request.POST):
        for name, values in params.lists():
            if NUL in name or any(NUL in value for value in values):
                return name
    for name, value in request.COOKIES.items():
        if NUL in name or NUL in value:
            return name
    for key, value in request.META.items():
        if key.startswith("HTTP_") and isinstance(value, str) and NUL in value:
            return key.removeprefix("HTTP_").replace("_", "-").title()
    return None


class RefuseNulMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if NUL in request.path_info:
            if is_api(request):
                return JsonResponse(error_body("not_found", "Not found."), status=404)
            return HttpResponseNotFound()
        try:
            name = _holding_nul(request)
        except (SuspiciousOperation, MultiPartParserError) as exc:
            refusal = as_api_exception(exc)
            if not is_api(request) or not isinstance(refusal, APIException):
                raise
            return JsonResponse(api_error_body(refusal), status=refusal.status_code)
        if name is not None:
            if not is_api(request):
                raise BadRequest(f"{name!r} holds a NUL character")
            return JsonResponse(
                error_body(
                    "invalid_parameter",
                    f"{name} must not contain NUL characters.",
                    {name: [NUL_MESSAGE]},
                ),
                status=400,
            )
        return self.get_response(request)
