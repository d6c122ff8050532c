"""OAuth2 client credentials for systems (django-oauth-toolkit).

A token from `POST /o/token/` (grant_type=client_credentials) carries no user of its own;
it acts as its Application's owner, a login that coordinates one organization's referrals
(or staff), so the same scoping applies as to that person's API token. The token must hold
the `fhir` scope.
"""

from __future__ import annotations

from typing import Any

from oauth2_provider.contrib.rest_framework import OAuth2Authentication
from rest_framework import exceptions
from rest_framework.request import Request

SCOPE = "fhir"


class ClientCredentialsAuthentication(OAuth2Authentication):
    www_authenticate_realm = "fhir"

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        found = super().authenticate(request)
        if found is None:
            return None
        user, token = found
        if not token.allow_scopes([SCOPE]):
            raise exceptions.PermissionDenied("The token lacks the fhir scope.")
        if user is None:
            user = token.application.user
        if user is None or not user.is_active:
            raise exceptions.AuthenticationFailed("The client's owner login is not active.")
        return user, token
