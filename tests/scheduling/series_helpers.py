"""Shared set-up for the recurring series tests (not a test module)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from rest_framework.test import APIClient

from scheduling.models import Appointment, Service
from tests.factories import ProviderFactory, ServiceFactory
from tests.scheduling.booking_helpers import payload

NY = ZoneInfo("America/New_York")
CHICAGO = ZoneInfo("America/Chicago")
PHOENIX = ZoneInfo("America/Phoenix")
# Tuesday 23 February 2027; the series start a week later, before the 14 March DST change.
NOW = datetime(2027, 2, 23, 12, 0, tzinfo=UTC)
TUE_4PM = datetime(2027, 3, 2, 16, 0, tzinfo=NY)
BOOK_URL = "/api/appointments/"


def series_service(
    zone: str = "America/New_York", hours: list | None = None, **overrides: Any
) -> Service:
    provider = ProviderFactory(states=["NY", "NJ", "AZ", "IL"], timezone=zone, hours=hours)
    overrides.setdefault("horizon_days", 200)
    overrides.setdefault("series_max_weeks", 26)
    return ServiceFactory(provider=provider, **overrides)


def book_series(
    client: APIClient,
    service: Service,
    start: datetime,
    *,
    every_weeks: int = 1,
    count: int = 12,
    **overrides: Any,
) -> Any:
    body = payload(service, start, repeat={"every_weeks": every_weeks, "count": count}, **overrides)
    return client.post(BOOK_URL, body, format="json")


def series_token(response: Any) -> str:
    return response.json()["series"]["manage_url"].rsplit("/", 1)[-1]


def starts_of(series_id: str) -> list[datetime]:
    rows = Appointment.objects.filter(series_id=series_id).exclude(status="cancelled")
    return sorted(a.start.astimezone(UTC) for a in rows)
