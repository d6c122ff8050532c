"""An offer never clashes with the waiting person's own visits: that person is passed over
for that place (a seat goes to the next in line; an earlier time moves on to the next)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from scheduling.booking.services import cancel_appointment
from scheduling.booking.waitlist import offers
from scheduling.booking.waitlist.models import WaitlistStatus
from tests.factories import ProviderFactory, ServiceFactory
from tests.scheduling.waitlist_helpers import (
    NOW,
    PHONES,
    TUE_18,
    full_group,
    join,
    one_to_one_service,
    seat,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def other_visit(phone: str, start, hours: tuple[str, str]):
    """A visit of the waiting person with someone else, at `start` (New York time)."""
    provider = ProviderFactory(name="Lou Park", states=["NY"], hours=[(1, *hours)])
    service = ServiceFactory(
        provider=provider, duration_minutes=60, slot_step_minutes=30, buffer_after_minutes=0
    )
    return seat(service, start, "Kay", phone)


def test_a_freed_seat_passes_over_a_person_busy_at_that_time(clock):
    service, seats = full_group()
    kay = join(service, "Kay", PHONES[5], start=TUE_18)
    clock.shift(timedelta(seconds=1))
    lee = join(service, "Lee", PHONES[6], start=TUE_18)
    other_visit(PHONES[5], TUE_18 - timedelta(minutes=30), ("17:00", "20:00"))
    cancel_appointment(appointment=seats[0], actor="patient")

    [offer] = offers.offer_places(provider_id=service.provider_id)

    assert offer.entry_id == lee.pk
    kay.refresh_from_db()
    assert kay.status == WaitlistStatus.WAITING


def test_an_earlier_time_skips_the_times_the_person_is_busy(clock):
    service = one_to_one_service()
    nine = TUE_18.replace(hour=9)
    other_visit(PHONES[5], nine + timedelta(minutes=30), ("09:00", "12:00"))
    join(service, "Kay", PHONES[5], before=TUE_18)

    [offer] = offers.offer_places(provider_id=service.provider_id)

    assert offer.start == nine + timedelta(hours=2)
