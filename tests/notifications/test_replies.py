"""scheduling.booking.replies: C/1 confirm and X/2 cancel the patient's next appointment."""

from __future__ import annotations

import pytest

from notifications.models import Notification
from scheduling.booking.replies import handle_reply
from scheduling.models import AppointmentStatus
from tests.notifications.conftest import PHONE, THU_10, book, make_service

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("word", ["C", "c", "1", " c. "])
def test_c_confirms_the_next_appointment(clock, word):
    appointment = book()

    answer = handle_reply(from_number=PHONE, body=word)

    assert answer.startswith("Thank you. You are confirmed with Dana W. on Wed Mar 4, 9:00 AM CST.")
    assert appointment.events.filter(kind="patient_confirmed", actor="patient").exists()


@pytest.mark.parametrize("word", ["X", "x", "2"])
def test_x_cancels_the_next_appointment_with_a_link_to_rebook(clock, word):
    appointment = book()

    answer = handle_reply(from_number=PHONE, body=word)

    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CANCELLED
    assert "is cancelled. To book a new time: https://bridgeway.example.org/m/" in answer


def test_x_cancels_only_the_earliest_upcoming_appointment(clock):
    service = make_service()
    later = book(service=service, start=THU_10)
    sooner = book(service=service)

    handle_reply(from_number=PHONE, body="X")

    sooner.refresh_from_db()
    later.refresh_from_db()
    assert sooner.status == AppointmentStatus.CANCELLED
    assert later.status == AppointmentStatus.CONFIRMED


def test_a_cancellation_by_text_is_not_texted_twice(clock):
    appointment = book()

    handle_reply(from_number=PHONE, body="X")

    assert not Notification.objects.filter(
        subject_ref=f"appointment:{appointment.id}", channel="sms", template__startswith="cancel"
    ).exists()
    assert Notification.objects.filter(
        subject_ref=f"appointment:{appointment.id}", channel="email", template__startswith="cancel"
    ).exists()


def test_a_known_number_without_upcoming_visits_gets_the_same_answer_as_a_stranger(clock):
    book()
    handle_reply(from_number=PHONE, body="X")

    known = handle_reply(from_number=PHONE, body="X")
    stranger = handle_reply(from_number="+13125550199", body="X")

    assert known == stranger
    assert "Dana" not in known


def test_anything_else_gets_short_help(clock):
    answer = handle_reply(from_number=PHONE, body="what time is it")

    assert answer.startswith("Bridgeway: Reply C to confirm your next appointment.")


def test_c_on_a_request_says_the_provider_still_has_to_confirm(clock):
    appointment = book(service=make_service(requires_approval=True))

    answer = handle_reply(from_number=PHONE, body="C")

    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.REQUESTED
    assert "Dana W. still has to confirm this request" in answer
