"""Booking is rate limited per client address (settings.BOOKING_RATE_LIMIT, e.g. "30/min")."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle, SimpleRateThrottle


def client_address(request: Any) -> str:
    """The address a request comes from (the throttle counts per address; Idempotency-Keys
    are scoped to it)."""
    # DRF trusts X-Forwarded-For unless NUM_PROXIES is set, which would let any client
    # pick its own address; trust it only when the proxies are declared.
    if api_settings.NUM_PROXIES:
        return str(BaseThrottle().get_ident(request))
    return str(request.META.get("REMOTE_ADDR") or "")


class BookingRateThrottle(SimpleRateThrottle):
    """429 `rate_limited` with Retry-After once an address books too often; counts in the cache."""

    scope = "booking"

    def get_rate(self) -> str | None:
        # Read at request time so an operator (or a test) can change it without a reload.
        return getattr(settings, "BOOKING_RATE_LIMIT", None) or None

    def get_ident(self, request: Any) -> str:
        return client_address(request)

    def get_cache_key(self, request: Any, view: Any) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
