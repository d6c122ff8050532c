"""Freed places under concurrency on PostgreSQL: offered to one person at a time, booked
at most once, never offered twice to the same person, and a Y racing the hold's end."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.db import connection

from common.errors import DomainError
from scheduling.booking import services as booking
from scheduling.booking.replies import handle_reply
from scheduling.booking.services import cancel_appointment
from scheduling.booking.waitlist import offers
from scheduling.booking.waitlist.models import OfferStatus, WaitlistEntry, WaitlistOffer
from scheduling.booking.waitlist.services import accept_offer
from scheduling.models import ACTIVE_STATUSES, Appointment, Service
from tests.scheduling.waitlist_helpers import (
    NOW,
    PHONES,
    TUE_18,
    full_group,
    join,
    one_to_one_service,
    seat,
)

pytestmark = [
    pytest.mark.integration,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def _together(*calls: Callable[[], Any]) -> list[Any]:
    """Run the calls at the same moment, each on its own connection; re-raise any error."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)
    errors: list[BaseException] = []

    def run(index: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = call()
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    return results


def _seated() -> int:
    return Appointment.objects.filter(start=TUE_18, status__in=ACTIVE_STATUSES).count()


def _freeing(seat: Appointment, provider_id: int) -> Callable[[], int]:
    def work() -> int:
        cancel_appointment(appointment=seat, actor="patient")
        return len(offers.offer_places(provider_id=provider_id))

    return work


def test_two_seats_freed_at_once_with_five_waiting_make_two_offers_and_two_bookings(clock):
    service, seats = full_group(capacity=2)
    waiting = []
    for i in range(5):
        waiting.append(join(service, f"W{i}", PHONES[4 + i], start=TUE_18))
        clock.shift(timedelta(seconds=1))

    made = _together(*[_freeing(seat, service.provider_id) for seat in seats])

    assert sum(made) == 2
    held = WaitlistOffer.objects.filter(status=OfferStatus.HELD)
    assert sorted(o.entry_id for o in held) == sorted(e.pk for e in waiting[:2])

    answers = _together(
        *[lambda p=PHONES[4 + i]: handle_reply(from_number=p, body="Y") for i in range(5)]
    )

    assert sum(a.startswith("Done:") for a in answers) == 2
    assert _seated() == 2
    assert WaitlistEntry.objects.filter(status="booked").count() == 2


def test_two_sweeps_at_once_offer_a_lapsed_place_to_one_next_person_only(clock):
    service, seats = full_group(capacity=2)
    for i in range(4):
        join(service, f"W{i}", PHONES[4 + i], start=TUE_18)
        clock.shift(timedelta(seconds=1))
    cancel_appointment(appointment=seats[0], actor="patient")
    offers.offer_places(provider_id=service.provider_id)
    clock.shift(timedelta(minutes=31))

    made = _together(offers.sweep, offers.sweep)

    assert sum(made) == 1
    assert WaitlistOffer.objects.filter(status=OfferStatus.HELD).count() == 1
    # Every place went to each person at most once (the unique constraint holds it too).
    pairs = list(WaitlistOffer.objects.values_list("entry_id", "start"))
    assert len(pairs) == len(set(pairs)) == 2


@pytest.mark.parametrize("round_", range(4))
def test_a_y_racing_the_end_of_the_hold_books_or_lapses_never_both(clock, round_):
    service, seats = full_group(capacity=2)
    entry = join(service, "Kay", PHONES[6], start=TUE_18)
    cancel_appointment(appointment=seats[0], actor="patient")
    [offer] = offers.offer_places(provider_id=service.provider_id)
    at = offer.expires_at

    taken, _ = _together(
        lambda: accept_offer(offer=offer, now=at - timedelta(milliseconds=1)),
        lambda: offers.expire_offers(now=at + timedelta(seconds=1)),
    )

    offer.refresh_from_db()
    mine = Appointment.objects.filter(patient=entry.patient, status__in=ACTIVE_STATUSES).count()
    if offer.status == OfferStatus.ACCEPTED:
        assert (mine, taken.appointment is not None) == (1, True)
    else:
        assert (offer.status, mine, taken.appointment) == (OfferStatus.EXPIRED, 0, None)
    assert _seated() <= 2


# ---------------------------------------------------------------- one-to-one: booking vs offer

TUE_10 = TUE_18.replace(hour=10)


def _one_free_time_and_one_waiting() -> Service:
    """A one-to-one service whose only free time is Tuesday 10 AM; Kay waits for any time."""
    service = one_to_one_service()
    seat(service, TUE_10 - timedelta(hours=1), "A", PHONES[0])
    seat(service, TUE_10 + timedelta(hours=1), "B", PHONES[1])
    join(service, "Kay", PHONES[5], before=TUE_10 + timedelta(hours=6))
    return service


def _book_ten(service: Service) -> Callable[[], Appointment | DomainError]:
    def work() -> Appointment | DomainError:
        try:
            return seat(service, TUE_10, "Walk-in", PHONES[2])
        except DomainError as error:
            return error

    return work


def _after(seconds: float, call: Callable[[], Any]) -> Callable[[], Any]:
    def work() -> Any:
        time.sleep(seconds)
        return call()

    return work


def _slowly(call: Callable[..., Any]) -> Callable[..., Any]:
    def slow(*args: Any, **kwargs: Any) -> Any:
        result = call(*args, **kwargs)
        time.sleep(0.5)  # inside the transaction, before its row is written
        return result

    return slow


def test_an_offer_made_while_a_booking_of_that_time_commits_is_not_made(clock, monkeypatch):
    service = _one_free_time_and_one_waiting()
    monkeypatch.setattr(booking, "_require_offered", _slowly(booking._require_offered))

    booked, made = _together(
        _book_ten(service),
        _after(0.1, lambda: offers.offer_places(provider_id=service.provider_id)),
    )

    assert isinstance(booked, Appointment) and booked.start == TUE_10
    assert made == []
    assert not WaitlistOffer.objects.filter(status=OfferStatus.HELD).exists()


def test_a_booking_made_while_an_offer_of_that_time_commits_is_refused(clock, monkeypatch):
    service = _one_free_time_and_one_waiting()
    monkeypatch.setattr(offers, "_take", _slowly(offers._take))

    booked, made = _together(
        _after(0.1, _book_ten(service)),
        lambda: offers.offer_places(provider_id=service.provider_id),
    )

    assert isinstance(booked, DomainError) and booked.code == "slot_unavailable"
    assert [offer.start for offer in made] == [TUE_10]
    assert not Appointment.objects.filter(start=TUE_10, status__in=ACTIVE_STATUSES).exists()
