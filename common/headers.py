"""Headers for responses that carry patients' details, and CSRF on the token pages.

- Every response that does not set its own Cache-Control gets `no-store, private`: API
  answers, pages, the portal and the board hold names, phones and visit times, and no
  browser or proxy cache should keep them. A view that may be cached says so itself (the
  calendar feed: `private, no-cache` with its ETag).
- Pages under a link token (common.redaction.TOKEN_PATH_PREFIXES) answer with
  `Referrer-Policy: no-referrer`, so no link followed from them (a video room, a resource)
  learns the token from the Referer. Elsewhere Django's `same-origin` stands.
- A browser posting a form from a `no-referrer` page sends `Origin: null` and no Referer
  (the Fetch standard), which Django's CSRF check refuses. On the token pages that origin
  is let through to the CSRF token check, which still applies: the path itself carries an
  unguessable token no other site knows.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.utils.cache import patch_cache_control

from common.redaction import is_token_path


class PrivateResponsesMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not response.has_header("Cache-Control"):
            patch_cache_control(response, no_store=True, private=True)
        if is_token_path(request.path_info):
            response["Referrer-Policy"] = "no-referrer"
        return response


class TokenPageCsrfMiddleware(CsrfViewMiddleware):
    """Django's CSRF middleware, accepting `Origin: null` on the token pages only."""

    def _origin_verified(self, request: HttpRequest) -> bool:
        if request.META.get("HTTP_ORIGIN") == "null" and is_token_path(request.path_info):
            return True
        return super()._origin_verified(request)  # type: ignore[misc]
