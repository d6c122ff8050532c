"""Shared set-up for the booking and appointment tests (not a test module)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from rest_framework.test import APIClient

from scheduling.models import Service
from tests.factories import ProviderFactory, ServiceFactory, proof_of

NY = ZoneInfo("America/New_York")
# A Monday noon UTC; the test visits fall on Wednesday 4 March 2026 (EST, before the DST change).
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
WED_10 = datetime(2026, 3, 4, 10, 0, tzinfo=NY)
WED_11 = datetime(2026, 3, 4, 11, 0, tzinfo=NY)
WED_14 = datetime(2026, 3, 4, 14, 0, tzinfo=NY)
BOOK_URL = "/api/appointments/"


def make_service(**overrides: Any) -> Service:
    provider_kwargs = overrides.pop("provider_kwargs", {})
    provider = ProviderFactory(states=["NY", "NJ"], **provider_kwargs)
    return ServiceFactory(provider=provider, **overrides)


def payload(service: Service, start: Any, /, **overrides: Any) -> dict[str, Any]:
    patient = {
        "name": "Alex Rivera",
        "phone": "+1 212 555 0142",
        "email": "alex@example.net",
        "timezone": "America/New_York",
        "state": "NY",
    }
    patient.update(overrides.pop("patient", {}))
    body: dict[str, Any] = {
        "provider": service.provider.slug,
        "service": service.slug,
        "start": start.isoformat() if isinstance(start, datetime) else start,
        "patient": patient,
        "sms_consent": True,
    }
    body.update(overrides)
    if "verification" not in body:  # the code step done for this phone, as the page does it
        body["verification"] = proof_of(patient["phone"])
    elif body["verification"] is None:
        del body["verification"]
    return body


def book(client: APIClient, service: Service, start: Any, /, **overrides: Any) -> Any:
    headers = overrides.pop("headers", {})
    return client.post(BOOK_URL, payload(service, start, **overrides), format="json", **headers)


def token_of(response: Any) -> str:
    return response.json()["manage_url"].rsplit("/", 1)[-1]
