"""A patient who stops texts (STOP, or "Cancel", which carriers read as STOP) with a visit
still booked is emailed that texts stopped, that the visit stands, and how to change it."""

from __future__ import annotations

import pytest

from notifications.models import Notification
from scheduling.booking.links import manage_url
from tests.factories import as_sent
from tests.notifications.conftest import book
from tests.notifications.test_message_privacy import clinical_words
from tests.notifications.test_webhooks import _twilio, inbound  # noqa: F401 (fixture)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("_twilio")]


def stopped_emails():
    return Notification.objects.filter(template="texts_stopped")


def test_a_lone_cancel_from_a_booked_patient_emails_them_that_the_visit_stands(client, clock):
    appointment = book()

    inbound(client, "Cancel")

    email = stopped_emails().get()
    assert email.channel == "email" and email.recipient == "alex@example.net"
    assert "still booked" in email.body
    assert manage_url(appointment) in as_sent(email)


def test_the_texts_stopped_email_stores_no_working_link(client, clock):
    appointment = book()

    inbound(client, "STOP")

    assert manage_url(appointment) not in stopped_emails().get().body


def test_the_texts_stopped_subject_says_nothing_clinical_or_personal(client, clock):
    book()

    inbound(client, "STOP")

    subject = stopped_emails().get().subject
    assert subject == "Bridgeway: texts turned off"
    assert not clinical_words(subject)


def test_a_patient_without_an_email_address_gets_no_email(client, clock):
    book(email="")

    inbound(client, "STOP")

    assert not stopped_emails().exists()


def test_a_stop_from_a_number_with_no_visit_sends_nothing_and_answers_the_same(client, clock):
    book()

    known = inbound(client, "STOP", sid="SM1").content
    stranger = inbound(client, "STOP", sid="SM2", number="+13125550199").content

    assert known == stranger
    assert stopped_emails().count() == 1


def test_a_replayed_stop_emails_once(client, clock):
    book()

    inbound(client, "STOP", sid="SMsame")
    inbound(client, "STOP", sid="SMsame")

    assert stopped_emails().count() == 1


def test_help_and_start_send_no_email(client, clock):
    book()

    inbound(client, "HELP", sid="SM1")
    inbound(client, "START", sid="SM2")

    assert not stopped_emails().exists()


def test_a_carrier_opt_out_also_emails_a_booked_patient_once(clock):
    from notifications.optouts import opt_out

    book()

    opt_out(phone="+12125550142", source="carrier 21610")
    opt_out(phone="+12125550142", source="carrier 21610")

    assert stopped_emails().count() == 1
