from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from notifications.backends import locmem
from scheduling.booking.patients import PatientDetails
from scheduling.models import Appointment
from tests.factories import ProviderFactory, ServiceFactory

NY = ZoneInfo("America/New_York")
CHICAGO = ZoneInfo("America/Chicago")
# Monday 2 March 2026, noon UTC; the visit is Wednesday 4 March 10:00 New York (EST).
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
WED_10 = datetime(2026, 3, 4, 10, 0, tzinfo=NY)
THU_10 = datetime(2026, 3, 5, 10, 0, tzinfo=NY)
PHONE = "+12125550142"


@pytest.fixture(autouse=True)
def _sms(settings: Any) -> Any:
    settings.SMS_BACKEND = "notifications.backends.locmem.LocmemBackend"
    settings.PUBLIC_BASE_URL = "https://bridgeway.example.org"
    settings.REMINDER_OFFSETS_HOURS = [24, 2]
    settings.NOTIFICATIONS_DISPATCH = "sync"
    settings.NOTIFICATIONS_SEND_CONCURRENCY = 1
    locmem.outbox.clear()
    locmem.failures.clear()
    yield
    locmem.outbox.clear()
    locmem.failures.clear()


@pytest.fixture
def clock(time_machine: Any) -> Any:
    time_machine.move_to(NOW, tick=False)
    return time_machine


def make_service(**overrides: Any) -> Any:
    provider = ProviderFactory(
        name="Dana Whitfield", states=["NY", "NJ"], timezone="America/New_York"
    )
    return ServiceFactory(provider=provider, **overrides)


def book(
    *,
    start: datetime = WED_10,
    sms_consent: bool = True,
    service: Any = None,
    phone: str = PHONE,
    email: str = "alex@example.net",
    timezone: str = "America/Chicago",
    **kwargs: Any,
) -> Appointment:
    from scheduling.booking import services

    return services.book_appointment(
        possession=True,
        service=service or make_service(),
        start=start,
        patient=PatientDetails(
            name="Alex Rivera", phone=phone, timezone=timezone, state="NY", email=email
        ),
        sms_consent=sms_consent,
        **kwargs,
    )
