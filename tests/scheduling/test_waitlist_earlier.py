"""An earlier time: "tell me if a time before my visit opens" moves the visit when taken."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import time_machine

from scheduling.booking.replies import handle_reply
from scheduling.booking.services import cancel_appointment
from scheduling.booking.waitlist import offers
from scheduling.booking.waitlist.models import WaitlistOffer
from scheduling.models import Appointment, AppointmentStatus
from tests.scheduling.waitlist_helpers import NOW, NY, PHONES, join, one_to_one_service, seat

pytestmark = pytest.mark.django_db

TUE_9 = datetime(2026, 3, 3, 9, 0, tzinfo=NY)
LATER_TUE_9 = TUE_9 + timedelta(days=14)


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def _fill_first_tuesday(service):
    return [seat(service, TUE_9 + timedelta(hours=h), f"Busy{h}", PHONES[h]) for h in range(3)]


def test_an_earlier_time_is_offered_and_y_moves_the_visit_instead_of_adding_one(clock):
    service = one_to_one_service()
    taken = _fill_first_tuesday(service)
    # Every Tuesday before the 17th is taken too, so the visit is on the 17th.
    week2 = [
        seat(service, TUE_9 + timedelta(days=7, hours=h), f"W{h}", PHONES[3 + h]) for h in range(3)
    ]
    visit = seat(service, LATER_TUE_9, "Kay", PHONES[8])
    join(service, "Kay", PHONES[8], appointment=visit)

    cancel_appointment(appointment=taken[1], actor="patient")
    made = offers.offer_places(provider_id=service.provider_id)
    assert [o.start for o in made] == [TUE_9 + timedelta(hours=1)]

    handle_reply(from_number=PHONES[8], body="Y")

    visit.refresh_from_db()
    assert visit.start == TUE_9 + timedelta(hours=1)
    assert Appointment.objects.filter(patient=visit.patient).count() == 1
    assert visit.status == AppointmentStatus.CONFIRMED
    assert len(week2) == 3


def test_a_time_after_the_date_asked_for_is_not_offered(clock):
    service = one_to_one_service()
    _fill_first_tuesday(service)
    join(service, "Kay", PHONES[8], before=TUE_9 + timedelta(hours=1))
    late = Appointment.objects.get(start=TUE_9 + timedelta(hours=2))

    cancel_appointment(appointment=late, actor="patient")

    assert offers.offer_places(provider_id=service.provider_id) == []


def test_the_place_a_moved_visit_frees_is_offered_to_the_next_person(clock):
    service = one_to_one_service()
    _fill_first_tuesday(service)
    visit = seat(service, LATER_TUE_9, "Kay", PHONES[8])
    join(service, "Kay", PHONES[8], appointment=visit)
    clock.shift(timedelta(seconds=1))
    join(service, "Lou", PHONES[9], before=LATER_TUE_9 + timedelta(hours=1))
    cancel_appointment(appointment=Appointment.objects.get(start=TUE_9), actor="patient")
    offers.offer_places(provider_id=service.provider_id)
    handle_reply(from_number=PHONES[8], body="Y")

    offers.sweep()

    held = WaitlistOffer.objects.get(status="held")
    assert held.entry.patient.phone == PHONES[9]
