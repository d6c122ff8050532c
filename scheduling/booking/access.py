"""Who may open an appointment, and as whom they act.

A manage token opens exactly the appointment it was made for (the patient). A logged-in
staff user (session or DRF token) sees every appointment; a user linked to a provider sees
only that provider's. Everything else is 404 `not_found`, never a hint that it exists.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.http import HttpRequest

from common.errors import NotFound
from common.events import Actor
from common.tokens import token_matches
from scheduling.models import Appointment, Provider


@dataclass(frozen=True)
class Access:
    appointment: Appointment
    actor: str  # an Actor value: patient, provider or staff
    user: Any  # the authenticated user, or None for a patient's token

    @property
    def is_patient(self) -> bool:
        return self.actor == Actor.PATIENT


def request_token(request: Any) -> str | None:
    """The manage token of a request: ?token=, else a "token" field of the body."""
    query = getattr(request, "query_params", None) or getattr(request, "GET", {})
    token = query.get("token")
    if not token and request.method not in ("GET", "HEAD", "OPTIONS"):
        body = getattr(request, "data", None)
        if body is None and isinstance(request, HttpRequest):
            body = request.POST
        if body is not None and hasattr(body, "get"):
            token = body.get("token")
    return token if isinstance(token, str) and token else None


def user_provider(user: Any) -> Provider | None:
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    try:
        return user.provider
    except ObjectDoesNotExist:
        return None


def actor_for(request: Any, appointment: Appointment, token: str | None) -> Access | None:
    """How this request may act on the appointment, or None when it may not see it."""
    if token is not None and token_matches(token, appointment.manage_token_hash):
        return Access(appointment, Actor.PATIENT, None)
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    if user.is_staff:
        return Access(appointment, Actor.STAFF, user)
    provider = user_provider(user)
    if provider is not None and provider.pk == appointment.provider_id:
        return Access(appointment, Actor.PROVIDER, user)
    return None


def resolve_access(request: Any, appointment_id: object) -> Access:
    """Load the appointment the request may act on, with the actor; else NotFound."""
    try:
        pk = uuid.UUID(str(appointment_id))
    except (TypeError, ValueError, AttributeError):
        raise NotFound() from None
    appointment = (
        Appointment.objects.select_related("provider", "service", "patient").filter(pk=pk).first()
    )
    if appointment is None:
        raise NotFound()
    access = actor_for(request, appointment, request_token(request))
    if access is None:
        raise NotFound()
    return access
