"""The Twilio backend through the real SDK against the local Twilio-speaking server."""

from __future__ import annotations

import pytest

from notifications.backends.base import SmsMessage, TransportError
from notifications.backends.twilio import TwilioBackend
from tests.integration.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, Answer, FakeTwilio

pytestmark = pytest.mark.integration
TO = "+12125550142"


@pytest.fixture
def fake(settings):
    server = FakeTwilio().start()
    settings.TWILIO_ACCOUNT_SID = ACCOUNT_SID
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.TWILIO_API_BASE_URL = server.url
    settings.TWILIO_FROM_NUMBER = "+15005550006"
    settings.TWILIO_MESSAGING_SERVICE_SID = ""
    settings.TWILIO_HTTP_TIMEOUT_SECONDS = 2
    yield server
    server.stop()


def message(n: int = 1, body: str = "hello") -> SmsMessage:
    return SmsMessage(
        notification_id=n, to=TO, body=body, status_callback=f"https://x.test/cb/?n={n}"
    )


def test_a_send_reaches_the_server_with_sender_and_callback(fake):
    result = TwilioBackend().send(message())

    assert result.message_id.startswith("SM")
    form = fake.requests[0]["form"]
    assert form == {
        "To": TO,
        "Body": "hello",
        "From": "+15005550006",
        "StatusCallback": "https://x.test/cb/?n=1",
    }


def test_a_messaging_service_replaces_the_from_number(fake, settings):
    settings.TWILIO_MESSAGING_SERVICE_SID = "MG" + "1" * 32

    TwilioBackend().send(message())

    assert fake.requests[0]["form"]["MessagingServiceSid"] == "MG" + "1" * 32
    assert "From" not in fake.requests[0]["form"]


@pytest.mark.parametrize("status", [500, 503, 429])
def test_server_errors_and_rate_limits_are_retryable(fake, status):
    fake.fail_next(Answer(status))

    with pytest.raises(TransportError) as error:
        TwilioBackend().send(message())

    assert not error.value.permanent
    assert not error.value.outcome_unknown


@pytest.mark.parametrize("code", [21610, 21211, 21614])
def test_recipient_errors_are_permanent(fake, code):
    fake.fail_next(Answer(400, code))

    with pytest.raises(TransportError) as error:
        TwilioBackend().send(message())

    assert error.value.permanent
    assert error.value.code == str(code)


def test_a_connection_refused_is_retryable_and_surely_unsent(settings):
    server = FakeTwilio().start()
    url = server.url
    server.stop()
    settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN = ACCOUNT_SID, AUTH_TOKEN
    settings.TWILIO_API_BASE_URL = url

    with pytest.raises(TransportError) as error:
        TwilioBackend().send(message())

    assert not error.value.outcome_unknown


def test_a_timeout_after_sending_is_an_unknown_outcome(fake, settings):
    settings.TWILIO_HTTP_TIMEOUT_SECONDS = 0.3
    fake.delay = 1.0

    with pytest.raises(TransportError) as error:
        TwilioBackend().send(message())

    assert error.value.outcome_unknown
    assert len(fake.messages) == 1


def test_lookup_finds_a_message_by_recipient_and_body(fake):
    sent = TwilioBackend().send(message(body="the one"))
    TwilioBackend().send(message(body="another"))

    found = TwilioBackend().lookup(message(body="the one"))

    assert found is not None and found.message_id == sent.message_id


def test_lookup_by_sid_fetches_the_message(fake):
    sent = TwilioBackend().send(message())

    found = TwilioBackend().lookup(message(), sent.message_id)

    assert found is not None and found.status == "queued"


def test_lookup_of_a_message_never_sent_finds_nothing(fake):
    assert TwilioBackend().lookup(message(body="never sent")) is None


def test_the_sdk_logs_no_phone_numbers_at_info(fake, caplog):
    with caplog.at_level("INFO"):
        TwilioBackend().send(message())
        TwilioBackend().lookup(message())

    assert TO not in caplog.text
    assert "%2B1212" not in caplog.text
