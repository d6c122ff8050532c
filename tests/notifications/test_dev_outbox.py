"""/dev/sms/: the development outbox page and its reply form."""

from __future__ import annotations

import pytest

from common.crypto import blind_index
from notifications.models import InboundMessage
from scheduling.models import AppointmentStatus
from tests.notifications.conftest import PHONE, book

pytestmark = pytest.mark.django_db
OUTBOX = "notifications.backends.outbox.OutboxBackend"


@pytest.fixture
def outbox_backend(settings):
    settings.DEBUG = True
    settings.SMS_BACKEND = OUTBOX


def test_the_page_is_hidden_outside_debug(client, settings):
    settings.DEBUG = False
    settings.SMS_BACKEND = OUTBOX

    assert client.get("/dev/sms/").status_code == 404


def test_the_page_is_hidden_when_twilio_sends(client, settings):
    settings.DEBUG = True
    settings.SMS_BACKEND = "notifications.backends.twilio.TwilioBackend"

    assert client.get("/dev/sms/").status_code == 404


def test_the_page_lists_what_was_texted(client, outbox_backend, clock):
    book()

    page = client.get("/dev/sms/").content.decode()

    assert "Your appointment with Dana W. is confirmed" in page
    assert PHONE in page


def test_a_reply_goes_through_the_inbound_code_path(client, outbox_backend, clock):
    appointment = book()

    response = client.post("/dev/sms/", {"from_number": PHONE, "body": "X"})

    assert response.status_code == 302
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CANCELLED
    reply = InboundMessage.objects.get(from_hash=blind_index(PHONE))
    assert reply.message_sid.startswith("SMdev")
    page = client.get(response["Location"]).content.decode()
    assert "is cancelled. To book a new time" in page


def test_an_empty_reply_is_refused_with_a_message(client, outbox_backend):
    response = client.post("/dev/sms/", {"from_number": "", "body": ""})

    assert response.status_code == 200
    assert "Choose a number and type a reply." in response.content.decode()
    assert not InboundMessage.objects.exists()
