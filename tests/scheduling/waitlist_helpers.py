"""Shared set-up for the group and waitlist tests (not a test module)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from common.events import Actor
from scheduling.booking.patients import PatientDetails
from scheduling.booking.services import book_appointment
from scheduling.booking.waitlist.models import WaitlistEntry
from scheduling.booking.waitlist.services import join_waitlist
from scheduling.models import Appointment, ProviderKind, Service
from tests.factories import LanguageFactory, ProviderFactory, ServiceFactory

NY = ZoneInfo("America/New_York")
# Monday noon UTC; the group meets on Tuesdays 6 PM New York time (EST in early March).
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
TUE_18 = datetime(2026, 3, 3, 18, 0, tzinfo=NY)
NEXT_TUE_18 = TUE_18 + timedelta(days=7)
PHONES = [f"+1212555{2100 + i:04d}" for i in range(10)]


def group_service(*, capacity: int = 2, **overrides: Any) -> Service:
    provider_kwargs = {
        "name": "Dana Whitfield",
        "kind": ProviderKind.GROUP_FACILITATOR,
        "states": ["NY", "NJ"],
        "hours": [(1, "18:00", "19:00")],
        **overrides.pop("provider_kwargs", {}),
    }
    provider = ProviderFactory(**provider_kwargs)
    provider.languages.add(LanguageFactory(code="en", name="English"))
    values = {
        "name": "Tapering peer group",
        "capacity": capacity,
        "duration_minutes": 60,
        "slot_step_minutes": 60,
        "buffer_after_minutes": 0,
        "min_notice_hours": 1,
        "horizon_days": 56,
        **overrides,
    }
    return ServiceFactory(provider=provider, **values)


def one_to_one_service(**overrides: Any) -> Service:
    provider = ProviderFactory(name="Sam Ortiz", states=["NY"], hours=[(1, "09:00", "12:00")])
    values = {"duration_minutes": 60, "slot_step_minutes": 60, "buffer_after_minutes": 0}
    return ServiceFactory(provider=provider, **{**values, **overrides})


def details(name: str, phone: str, email: str = "") -> PatientDetails:
    return PatientDetails(
        name=name, phone=phone, timezone="America/New_York", state="NY", email=email
    )


def seat(service: Service, start: datetime, name: str, phone: str, email: str = "") -> Appointment:
    return book_appointment(
        service=service,
        start=start,
        patient=details(name, phone, email),
        sms_consent=True,
        possession=True,
        actor=Actor.PATIENT,
    )


def join(
    service: Service,
    name: str,
    phone: str,
    *,
    start: datetime | None = None,
    before: datetime | None = None,
    **kwargs: Any,
) -> WaitlistEntry:
    entry, _ = join_waitlist(
        service=service,
        patient=details(name, phone),
        sms_consent=True,
        possession=True,
        start=start,
        before=before,
        **kwargs,
    )
    return entry


def full_group(capacity: int = 2) -> tuple[Service, list[Appointment]]:
    """A group whose Tuesday meeting is full."""
    service = group_service(capacity=capacity)
    seats = [seat(service, TUE_18, f"Seat{i}", PHONES[i]) for i in range(capacity)]
    return service, seats
