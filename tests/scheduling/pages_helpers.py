"""Shared set-up for the page and portal tests (not a test module)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from scheduling.booking import links
from scheduling.models import Appointment, Service
from tests.factories import AppointmentFactory, ProviderFactory, ServiceFactory

NY = ZoneInfo("America/New_York")
LA = ZoneInfo("America/Los_Angeles")
# Monday 2 March 2026, noon UTC. With 24 h notice the first opening is Tue 3 Mar 09:00 EST.
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
TUE_9 = datetime(2026, 3, 3, 9, 0, tzinfo=NY)
WED_10 = datetime(2026, 3, 4, 10, 0, tzinfo=NY)
WED_11 = datetime(2026, 3, 4, 11, 0, tzinfo=NY)


def make_service(**overrides: Any) -> Service:
    provider_kwargs = overrides.pop("provider_kwargs", {})
    provider_kwargs.setdefault("states", ["NY", "NJ"])
    provider = ProviderFactory(**provider_kwargs)
    overrides.setdefault("name", "First visit")
    return ServiceFactory(provider=provider, **overrides)


def make_appointment(service: Service, start: datetime, **kwargs: Any) -> Appointment:
    return AppointmentFactory(service=service, start=start, **kwargs)


def manage_path(appointment: Appointment) -> str:
    return f"/m/{links.manage_token(appointment)}"


def form_data(service: Service, start: datetime, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "service": service.slug,
        "start": start.astimezone(UTC).isoformat(),
        "tz": "America/New_York",
        "name": "Alex Rivera",
        "phone": "212-555-0142",
        "email": "alex@example.net",
        "state": "NY",
        "sms_consent": "on",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}
