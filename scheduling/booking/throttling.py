"""Booking is rate limited per client address (settings.BOOKING_RATE_LIMIT, e.g. "30/min"),
on the API and the HTML form alike, with one atomic counter shared by every process."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework.throttling import BaseThrottle

from common import limits

SCOPE = "booking"


def booking_rate() -> str | None:
    # Read at request time so an operator (or a test) can change it without a reload.
    return getattr(settings, "BOOKING_RATE_LIMIT", None) or None


def enforce_booking_rate(request: Any) -> None:
    """429 rate_limited once this address books too often (the HTML form's check)."""
    limits.enforce(SCOPE, limits.client_address(request), booking_rate())


def enforce_provider_cap(request: Any, provider: str) -> None:
    """429 once this address has booked this provider BOOKING_PER_PROVIDER_RATE_LIMIT times:
    one client cannot empty a provider's intake slots, whatever phones it proves."""
    rate = getattr(settings, "BOOKING_PER_PROVIDER_RATE_LIMIT", None) or None
    limits.enforce(f"{SCOPE}:{provider}", limits.client_address(request), rate)


class BookingRateThrottle(BaseThrottle):
    """429 `rate_limited` with Retry-After once an address books too often."""

    wait_seconds: float | None = None

    def allow_request(self, request: Any, view: Any) -> bool:
        rate = booking_rate()
        if rate is None:
            return True
        self.wait_seconds = limits.hit(SCOPE, limits.client_address(request), rate)
        return self.wait_seconds is None

    def wait(self) -> float | None:
        return self.wait_seconds
