"""Waitlists: order, one offer a place, Y books it, holds lapse to the next, STOP leaves."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from notifications.models import Notification
from notifications.optouts import opt_out
from notifications.text import is_gsm7, sms_segments
from scheduling.booking.replies import handle_reply
from scheduling.booking.services import cancel_appointment
from scheduling.booking.waitlist import offers
from scheduling.booking.waitlist.models import OfferStatus, WaitlistOffer, WaitlistStatus
from scheduling.booking.waitlist.services import leave_waitlist, position_of
from scheduling.models import Appointment, AppointmentStatus
from tests.scheduling.waitlist_helpers import NOW, PHONES, TUE_18, full_group, join

pytestmark = pytest.mark.django_db


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def _cancel(appointment: Appointment) -> None:
    cancel_appointment(appointment=appointment, actor="patient")


def _offers_texted() -> list[Notification]:
    return list(Notification.objects.filter(template="waitlist_offer").order_by("id"))


def test_people_join_a_full_session_in_line_order(clock):
    service, _ = full_group()
    first = join(service, "Kay", PHONES[5], start=TUE_18)
    clock.shift(timedelta(seconds=1))
    second = join(service, "Lou", PHONES[6], start=TUE_18)

    assert (position_of(first), position_of(second)) == (1, 2)


def test_a_freed_seat_is_offered_to_the_first_in_line_only(clock):
    service, seats = full_group()
    first = join(service, "Kay", PHONES[5], start=TUE_18)
    clock.shift(timedelta(seconds=1))
    join(service, "Lou", PHONES[6], start=TUE_18)
    _cancel(seats[0])

    made = offers.offer_places(provider_id=service.provider_id)

    assert [o.entry_id for o in made] == [first.pk]
    first.refresh_from_db()
    assert first.status == WaitlistStatus.OFFERED
    assert [n.recipient for n in _offers_texted()] == [PHONES[5]]


def test_the_offer_text_is_discreet_gsm7_and_at_most_two_segments(clock):
    service, seats = full_group()
    join(service, "Kay", PHONES[5], start=TUE_18)
    _cancel(seats[0])
    offers.offer_places(provider_id=service.provider_id)

    body = _offers_texted()[0].body
    assert body.startswith(
        "Bridgeway: A time opened with Dana W.: Tue Mar 3, 6:00 PM EST."
        " Reply Y within 30 min to take it, or open http"
    )
    assert "group" not in body.lower() and "Tapering" not in body
    assert is_gsm7(body) and sms_segments(body) <= 2


def test_urgent_referrals_are_offered_before_earlier_joiners(clock):
    service, seats = full_group()
    join(service, "Kay", PHONES[5], start=TUE_18)
    clock.shift(timedelta(seconds=1))
    urgent = join(service, "Lou", PHONES[6], start=TUE_18)
    type(urgent).objects.filter(pk=urgent.pk).update(priority=1)
    _cancel(seats[0])

    made = offers.offer_places(provider_id=service.provider_id)

    assert [o.entry_id for o in made] == [urgent.pk]


def test_a_second_run_offers_nothing_more_for_the_same_freed_seat(clock):
    service, seats = full_group()
    join(service, "Kay", PHONES[5], start=TUE_18)
    join(service, "Lou", PHONES[6], start=TUE_18)
    _cancel(seats[0])

    offers.offer_places(provider_id=service.provider_id)
    again = offers.offer_places(provider_id=service.provider_id)

    assert again == []
    assert WaitlistOffer.objects.count() == 1


def test_y_books_the_held_seat_through_the_booking_service(clock):
    service, seats = full_group()
    entry = join(service, "Kay", PHONES[5], start=TUE_18)
    _cancel(seats[0])
    offers.offer_places(provider_id=service.provider_id)

    answer = handle_reply(from_number=PHONES[5], body="y")

    assert answer.startswith("Done: Tue Mar 3, 6:00 PM EST with Dana W. is yours.")
    booked = Appointment.objects.get(patient=entry.patient, status=AppointmentStatus.CONFIRMED)
    assert booked.start == TUE_18
    entry.refresh_from_db()
    assert entry.status == WaitlistStatus.BOOKED


def test_a_held_seat_cannot_be_booked_by_anyone_else(clock):
    from common.errors import DomainError
    from tests.scheduling.waitlist_helpers import seat

    service, seats = full_group()
    join(service, "Kay", PHONES[5], start=TUE_18)
    _cancel(seats[0])
    offers.offer_places(provider_id=service.provider_id)

    with pytest.raises(DomainError) as refused:
        seat(service, TUE_18, "Walk-in", PHONES[7])
    assert refused.value.code == "slot_unavailable"


def test_no_answer_within_the_hold_offers_the_seat_to_the_next_person(clock):
    service, seats = full_group()
    first = join(service, "Kay", PHONES[5], start=TUE_18)
    clock.shift(timedelta(seconds=1))
    second = join(service, "Lou", PHONES[6], start=TUE_18)
    _cancel(seats[0])
    offers.offer_places(provider_id=service.provider_id)

    clock.shift(timedelta(minutes=29))
    assert offers.sweep() == 0
    clock.shift(timedelta(minutes=2))
    assert offers.sweep() == 1

    held = WaitlistOffer.objects.get(status=OfferStatus.HELD)
    assert held.entry_id == second.pk
    first.refresh_from_db()
    assert first.status == WaitlistStatus.WAITING  # keeps its place for the next one
    assert offers.sweep() == 0  # and is never offered the same place again


def test_a_y_after_the_hold_lapsed_is_told_kindly_that_the_time_was_taken(clock):
    service, seats = full_group()
    entry = join(service, "Kay", PHONES[5], start=TUE_18)
    _cancel(seats[0])
    offers.offer_places(provider_id=service.provider_id)

    clock.shift(timedelta(minutes=31))
    answer = handle_reply(from_number=PHONES[5], body="Y")

    assert answer.startswith("Sorry, that time was taken. You are still on the list (number 1)")
    assert not Appointment.objects.filter(patient=entry.patient).exists()


def test_y_from_a_number_never_offered_anything_gets_the_usual_help(clock):
    answer = handle_reply(from_number="+12125550199", body="Y")

    assert answer.startswith("Bridgeway: Reply C to confirm your next appointment.")


def test_stop_leaves_the_list_and_the_held_seat_goes_to_the_next_person(clock):
    from notifications.inbound import handle_inbound

    service, seats = full_group()
    first = join(service, "Kay", PHONES[5], start=TUE_18)
    clock.shift(timedelta(seconds=1))
    second = join(service, "Lou", PHONES[6], start=TUE_18)
    _cancel(seats[0])
    offers.offer_places(provider_id=service.provider_id)

    handle_inbound(message_sid="SM-stop-1", from_number=PHONES[5], body="STOP")
    offers.sweep()

    first.refresh_from_db()
    assert first.status == WaitlistStatus.LEFT
    assert WaitlistOffer.objects.get(status=OfferStatus.HELD).entry_id == second.pk


def test_an_opted_out_number_is_skipped_and_keeps_its_place(clock):
    service, seats = full_group()
    first = join(service, "Kay", PHONES[5], start=TUE_18)
    clock.shift(timedelta(seconds=1))
    second = join(service, "Lou", PHONES[6], start=TUE_18)
    opt_out(phone=PHONES[5], source="carrier")
    type(first).objects.filter(pk=first.pk).update(status=WaitlistStatus.WAITING)
    _cancel(seats[0])

    made = offers.offer_places(provider_id=service.provider_id)

    assert [o.entry_id for o in made] == [second.pk]


def test_leaving_releases_the_held_seat(clock):
    service, seats = full_group()
    entry = join(service, "Kay", PHONES[5], start=TUE_18)
    _cancel(seats[0])
    offers.offer_places(provider_id=service.provider_id)

    left = leave_waitlist(entry=entry)

    assert WaitlistOffer.objects.get().status == OfferStatus.DECLINED
    assert position_of(left) is None


def test_a_cancellation_offers_the_seat_once_it_commits(
    clock, settings, django_capture_on_commit_callbacks
):
    settings.WAITLIST_DISPATCH = "sync"
    service, seats = full_group()
    join(service, "Kay", PHONES[5], start=TUE_18)

    with django_capture_on_commit_callbacks(execute=True):
        _cancel(seats[0])

    assert WaitlistOffer.objects.filter(status=OfferStatus.HELD).count() == 1


def test_a_session_that_has_begun_closes_its_waiting_entries(clock):
    service, _ = full_group()
    entry = join(service, "Kay", PHONES[5], start=TUE_18)

    clock.move_to(TUE_18 + timedelta(minutes=5))
    offers.sweep()

    entry.refresh_from_db()
    assert entry.status == WaitlistStatus.CLOSED


def _prefer(phone: str, **rules: object) -> None:
    from common.phones import phone_hash
    from scheduling.circle.models import ContactPreference
    from scheduling.models import Patient

    patient = Patient.objects.get(phone_hash=phone_hash(phone))
    ContactPreference.objects.create(patient=patient, **rules)


def test_a_person_inside_their_quiet_hours_is_skipped_and_keeps_their_place(clock):
    from datetime import time

    service, seats = full_group()
    first = join(service, "Kay", PHONES[5], start=TUE_18)
    clock.shift(timedelta(seconds=1))
    second = join(service, "Lou", PHONES[6], start=TUE_18)
    _prefer(PHONES[5], quiet_from=time(6, 0), quiet_until=time(9, 0))  # 07:00 in New York
    _cancel(seats[0])

    made = offers.offer_places(provider_id=service.provider_id)

    assert [o.entry_id for o in made] == [second.pk]
    assert position_of(first) == 1


def test_a_person_who_turned_texts_off_is_not_offered_by_text(clock):
    service, seats = full_group()
    join(service, "Kay", PHONES[5], start=TUE_18)
    clock.shift(timedelta(seconds=1))
    second = join(service, "Lou", PHONES[6], start=TUE_18)
    _prefer(PHONES[5], texts_ok=False)
    _cancel(seats[0])

    made = offers.offer_places(provider_id=service.provider_id)

    assert [o.entry_id for o in made] == [second.pk]


def test_an_offer_to_someone_who_asked_for_discreet_names_leaves_the_provider_out(clock):
    service, seats = full_group()
    join(service, "Kay", PHONES[5], start=TUE_18)
    _prefer(PHONES[5], discreet_names=True)
    _cancel(seats[0])

    offers.offer_places(provider_id=service.provider_id)

    (text,) = _offers_texted()
    assert service.provider.name.split()[0] not in text.body
    assert "A time opened with your provider:" in text.body
