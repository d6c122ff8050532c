"""Twilio webhooks: signatures, replays, carrier keywords, TwiML answers, status callbacks."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.utils import timezone
from twilio.request_validator import RequestValidator

from notifications.models import InboundMessage, Notification, NotificationStatus, SmsOptOut
from notifications.optouts import is_opted_out
from scheduling.models import AppointmentStatus
from tests.notifications.conftest import PHONE, book

pytestmark = pytest.mark.django_db
TOKEN = "test-auth-token"
BASE = "https://bridgeway.example.org"
S = NotificationStatus


@pytest.fixture(autouse=True)
def _twilio(settings):
    settings.TWILIO_AUTH_TOKEN = TOKEN
    settings.PUBLIC_BASE_URL = BASE


def post(client, path, params, *, sign=True, token=TOKEN, query=""):
    url = path + (f"?{query}" if query else "")
    headers = {}
    if sign:
        headers["HTTP_X_TWILIO_SIGNATURE"] = RequestValidator(token).compute_signature(
            BASE + url, params
        )
    return client.post(
        url, urlencode(params), content_type="application/x-www-form-urlencoded", **headers
    )


def inbound(client, body, *, sid="SM1", number=PHONE, **kwargs):
    params = {"MessageSid": sid, "From": number, "To": "+15005550006", "Body": body}
    return post(client, "/webhooks/twilio/sms/", params, **kwargs)


def test_an_unsigned_inbound_text_is_refused(client):
    response = inbound(client, "STOP", sign=False)

    assert response.status_code == 403
    assert not InboundMessage.objects.exists()
    assert not SmsOptOut.objects.exists()


def test_a_text_signed_with_another_token_is_refused(client):
    assert inbound(client, "STOP", token="forged").status_code == 403


def test_a_signature_for_another_url_is_refused(client, settings):
    settings.PUBLIC_BASE_URL = "https://other.example.org"

    assert inbound(client, "HELP").status_code == 403


def test_without_an_auth_token_every_webhook_is_refused(client, settings):
    settings.TWILIO_AUTH_TOKEN = ""

    assert inbound(client, "HELP").status_code == 403


def test_a_signed_text_is_answered_with_twiml(client, settings):
    response = inbound(client, "help")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/xml")
    body = response.content.decode()
    assert body.startswith("<?xml")
    assert f"<Message>{settings.SERVICE_CONTACT_LINE}" in body


def test_stop_opts_the_number_out_and_cancels_nothing(client, clock):
    appointment = book()

    response = inbound(client, " Stop ")

    assert response.status_code == 200
    assert is_opted_out(PHONE)
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CONFIRMED


def test_a_lone_cancel_is_an_opt_out_not_a_cancellation(client, clock):
    appointment = book()

    inbound(client, "CANCEL")

    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CONFIRMED
    assert is_opted_out(PHONE)


def test_start_opts_the_number_back_in(client):
    inbound(client, "STOP", sid="SM1")

    inbound(client, "start", sid="SM2")

    assert not SmsOptOut.objects.exists()


def test_a_replayed_message_sid_is_processed_once(client, clock):
    appointment = book()

    first = inbound(client, "X", sid="SMreplay")
    second = inbound(client, "X", sid="SMreplay")

    assert first.content == second.content
    assert InboundMessage.objects.filter(message_sid="SMreplay").count() == 1
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CANCELLED
    assert appointment.events.filter(kind="cancelled").count() == 1


def test_an_unknown_number_gets_an_answer_that_reveals_nothing(client):
    body = inbound(client, "C", number="+13125550199").content.decode()

    assert "could not find an upcoming appointment" in body


def test_a_signed_text_holding_a_nul_is_refused_and_stores_nothing(client):
    response = inbound(client, "STOP\x00")

    assert response.status_code == 400
    assert not InboundMessage.objects.exists()
    assert not SmsOptOut.objects.exists()


def test_a_status_callback_marks_the_message_delivered(client):
    row = Notification.objects.create(
        channel="sms",
        recipient=PHONE,
        template="t",
        body="b",
        dedupe_key="k",
        status=S.SENT,
        provider_message_id="SMabc",
    )
    params = {"MessageSid": "SMabc", "MessageStatus": "delivered"}

    response = post(client, "/webhooks/twilio/status/", params, query=f"n={row.pk}")

    assert response.status_code == 204
    row.refresh_from_db()
    assert row.status == S.DELIVERED


def test_an_unsigned_status_callback_changes_nothing(client):
    row = Notification.objects.create(
        channel="sms", recipient=PHONE, template="t", body="b", dedupe_key="k", status=S.SENT
    )
    params = {"MessageSid": "SMabc", "MessageStatus": "delivered"}

    response = post(client, "/webhooks/twilio/status/", params, query=f"n={row.pk}", sign=False)

    assert response.status_code == 403
    row.refresh_from_db()
    assert row.status == S.SENT


def test_an_undelivered_21610_callback_opts_the_number_out(client):
    row = Notification.objects.create(
        channel="sms",
        recipient=PHONE,
        template="t",
        body="b",
        dedupe_key="k",
        status=S.SENT,
        provider_message_id="SMabc",
    )
    params = {"MessageSid": "SMabc", "MessageStatus": "undelivered", "ErrorCode": "21610"}

    post(client, "/webhooks/twilio/status/", params, query=f"n={row.pk}")

    row.refresh_from_db()
    assert row.status == S.UNDELIVERABLE
    assert is_opted_out(PHONE)


def test_a_late_sent_callback_does_not_undo_delivered(client):
    row = Notification.objects.create(
        channel="sms",
        recipient=PHONE,
        template="t",
        body="b",
        dedupe_key="k",
        status=S.DELIVERED,
        provider_message_id="SMabc",
    )

    post(
        client,
        "/webhooks/twilio/status/",
        {"MessageSid": "SMabc", "MessageStatus": "sent"},
        query=f"n={row.pk}",
    )

    row.refresh_from_db()
    assert row.status == S.DELIVERED


def status_row(status=S.SENT, *, sid="SMabc", sent_at=None, dedupe_key="k"):
    return Notification.objects.create(
        channel="sms",
        recipient=PHONE,
        template="t",
        body="b",
        dedupe_key=dedupe_key,
        status=status,
        provider_message_id=sid,
        sent_at=sent_at,
    )


def undelivered_21610(client, row):
    params = {"MessageSid": row.provider_message_id, "MessageStatus": "undelivered"}
    return post(
        client, "/webhooks/twilio/status/", {**params, "ErrorCode": "21610"}, query=f"n={row.pk}"
    )


def test_a_replayed_21610_callback_leaves_a_delivered_message_delivered_and_opts_nobody_out(
    client,
):
    row = status_row(S.DELIVERED)

    assert undelivered_21610(client, row).status_code == 204

    row.refresh_from_db()
    assert row.status == S.DELIVERED
    assert row.error_code == ""
    assert not SmsOptOut.objects.exists()


def test_a_late_failed_callback_does_not_undo_delivered(client):
    row = status_row(S.DELIVERED)
    params = {"MessageSid": "SMabc", "MessageStatus": "failed", "ErrorCode": "30008"}

    post(client, "/webhooks/twilio/status/", params, query=f"n={row.pk}")

    row.refresh_from_db()
    assert row.status == S.DELIVERED


def test_a_replayed_21610_does_not_opt_out_again_a_number_that_opted_back_in(client):
    row = status_row(S.SENT)
    undelivered_21610(client, row)
    SmsOptOut.objects.all().delete()  # the patient texted START

    undelivered_21610(client, row)

    row.refresh_from_db()
    assert row.status == S.UNDELIVERABLE
    assert not SmsOptOut.objects.exists()


def test_a_stale_21610_does_not_opt_out_a_number_a_later_message_reached(client):
    row = status_row(S.SENT, sent_at=timezone.now() - timedelta(hours=2))
    status_row(S.DELIVERED, sid="SMlater", sent_at=timezone.now(), dedupe_key="later")

    undelivered_21610(client, row)

    row.refresh_from_db()
    assert row.status == S.UNDELIVERABLE
    assert not SmsOptOut.objects.exists()


def test_a_21610_opts_out_a_number_whose_delivered_messages_are_all_older(client):
    status_row(S.DELIVERED, sid="SMearlier", sent_at=timezone.now() - timedelta(days=1))
    row = status_row(S.SENT, sent_at=timezone.now(), dedupe_key="now")

    undelivered_21610(client, row)

    assert is_opted_out(PHONE)


def test_a_callback_settles_a_message_whose_outcome_was_unknown(client):
    row = Notification.objects.create(
        channel="sms", recipient=PHONE, template="t", body="b", dedupe_key="k", status=S.SENDING
    )

    post(
        client,
        "/webhooks/twilio/status/",
        {"MessageSid": "SMnew", "MessageStatus": "sent"},
        query=f"n={row.pk}",
    )

    row.refresh_from_db()
    assert row.status == S.SENT
    assert row.provider_message_id == "SMnew"


@pytest.mark.parametrize("path", ["/webhooks/twilio/status/", "/webhooks/twilio/sms/"])
def test_a_deeply_nested_json_body_to_a_webhook_is_refused_not_a_500(client, path):
    body = "[" * 100_000 + "]" * 100_000
    signature = RequestValidator(TOKEN).compute_signature(BASE + path, {})

    response = client.post(
        path, body, content_type="application/json", HTTP_X_TWILIO_SIGNATURE=signature
    )

    assert response.status_code == 400
