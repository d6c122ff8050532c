"""Who needs a second factor, and the middleware that asks for it.

A session that signed in with a password but not yet with a code is stopped everywhere
but the second-factor pages themselves: pages redirect to them, session-authenticated API
calls get 403 `mfa_required`. An API call that carries `Authorization` is judged by its
token alone, never by such a session. Which functions name the people who must (besides
staff) is a setting, so this package depends on no app.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import reverse
from django.utils.module_loading import import_string
from django_otp import user_has_device

from common.api import error_body

# The JSON API and the FHIR facade answer 403 rather than redirect to a page.
API_PREFIXES = ("/api/", "/fhir/")


def needs_second_factor(user: Any) -> bool:
    """Staff and superusers, and anyone a function in settings.MFA_REQUIRED_FOR names."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_staff or user.is_superuser:
        return True
    return any(import_string(path)(user) for path in settings.MFA_REQUIRED_FOR)


def waiting_for_second_factor(user: Any) -> bool:
    """Signed in with a password, required to use a second factor, and not yet verified."""
    if not getattr(user, "is_authenticated", False):
        return False
    verified = getattr(user, "is_verified", None)
    return not (verified is not None and verified()) and needs_second_factor(user)


def second_factor_url(request: HttpRequest) -> str:
    """The verify page (or the setup page for someone with no device yet), back to here."""
    name = "mfa-verify" if user_has_device(request.user, confirmed=True) else "mfa-setup"
    url = reverse(name)
    if request.method == "GET":
        url += "?" + urlencode({"next": request.get_full_path()})
    return url


def _exempt(path: str) -> bool:
    open_prefixes = (
        "/accounts/mfa/",
        "/accounts/login/",
        "/accounts/logout/",
        "/admin/logout/",
        "/healthz/",
        "/" + settings.STATIC_URL.lstrip("/"),
    )
    return path.startswith(open_prefixes)


class SecondFactorMiddleware:
    """After django_otp's OTPMiddleware: stop a session waiting for its second factor."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            settings.REQUIRE_MFA
            and not _exempt(request.path_info)
            and waiting_for_second_factor(request.user)
        ):
            if not request.path_info.startswith(API_PREFIXES):
                return HttpResponseRedirect(second_factor_url(request))
            if "HTTP_AUTHORIZATION" not in request.META:
                return JsonResponse(
                    error_body(
                        "mfa_required",
                        "Finish signing in with your authenticator code first.",
                    ),
                    status=403,
                )
            request.user = AnonymousUser()  # the token decides, not the half-signed session
        return self.get_response(request)
