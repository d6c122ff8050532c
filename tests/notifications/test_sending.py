"""notifications.delivery.send: claim, backend, outcome; retries; reconciliation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from notifications import delivery, optouts
from notifications.backends import locmem
from notifications.backends.base import TransportError
from notifications.models import Notification, NotificationStatus, SmsOptOut
from notifications.optouts import is_opted_out

pytestmark = pytest.mark.django_db
S = NotificationStatus
PHONE = "+12125550142"


def text(**overrides) -> Notification:
    fields = {
        "channel": "sms",
        "recipient": PHONE,
        "template": "reminder",
        "body": "Bridgeway reminder",
        "dedupe_key": f"test:{Notification.objects.count()}",
    }
    fields.update(overrides)
    return Notification.objects.create(**fields)


def test_a_row_that_is_not_pending_is_not_sent():
    row = text(status=S.SENT)

    assert delivery.send(notification_id=row.pk) is None
    assert locmem.outbox == []


def test_sending_twice_sends_once():
    row = text()

    delivery.send(notification_id=row.pk)
    delivery.send(notification_id=row.pk)

    assert len(locmem.outbox) == 1
    row.refresh_from_db()
    assert row.status == S.SENT
    assert row.provider_message_id == f"SMlocmem{row.pk}"
    assert row.attempts == 1


def test_the_status_callback_url_names_the_notification(settings):
    row = text()

    delivery.send(notification_id=row.pk)

    assert locmem.outbox[0].status_callback == (
        f"{settings.PUBLIC_BASE_URL}/webhooks/twilio/status/?n={row.pk}"
    )


def test_an_opted_out_number_is_suppressed_at_send_time():
    row = text()
    optouts.opt_out(phone=PHONE, source="keyword")

    delivery.send(notification_id=row.pk)

    row.refresh_from_db()
    assert row.status == S.SUPPRESSED
    assert locmem.outbox == []


def test_a_server_error_is_retried_later_with_backoff(settings):
    settings.NOTIFICATION_RETRY_BASE_SECONDS = 30
    locmem.failures.append(TransportError("HTTP 500", code="500"))
    row = text()
    before = timezone.now()

    delivery.send(notification_id=row.pk)

    row.refresh_from_db()
    assert row.status == S.PENDING
    assert row.attempts == 1
    assert row.last_error == "HTTP 500"
    assert before + timedelta(seconds=15) <= row.send_after <= before + timedelta(seconds=31)


def test_retries_stop_at_the_limit_and_fail(settings):
    settings.NOTIFICATION_MAX_ATTEMPTS = 2
    locmem.failures.extend([TransportError("HTTP 429", code="429")] * 2)
    row = text()

    delivery.send(notification_id=row.pk)
    delivery.send(notification_id=row.pk)

    row.refresh_from_db()
    assert row.status == S.FAILED
    assert row.attempts == 2
    assert locmem.outbox == []


def test_an_opted_out_recipient_error_opts_the_number_out():
    locmem.failures.append(TransportError("Twilio 21610", permanent=True, code="21610"))
    row = text()

    delivery.send(notification_id=row.pk)

    row.refresh_from_db()
    assert row.status == S.UNDELIVERABLE
    assert row.error_code == "21610"
    assert is_opted_out(PHONE)


@pytest.mark.parametrize("code", ["21211", "21614"])
def test_an_invalid_or_landline_number_is_undeliverable_without_retry(code):
    locmem.failures.append(TransportError(f"Twilio {code}", permanent=True, code=code))
    row = text()

    delivery.send(notification_id=row.pk)
    delivery.send(notification_id=row.pk)

    row.refresh_from_db()
    assert row.status == S.UNDELIVERABLE
    assert row.attempts == 1
    assert not SmsOptOut.objects.exists()


def test_an_unknown_outcome_keeps_the_row_sending_until_it_is_looked_up():
    locmem.failures.append(TransportError("no answer", outcome_unknown=True, code="network"))
    row = text()

    delivery.send(notification_id=row.pk)

    row.refresh_from_db()
    assert row.status == S.SENDING
    assert row.claimed_at is None  # released for the reconciler


def test_reconciling_a_message_the_provider_holds_does_not_send_it_again():
    row = text()
    delivery.send(notification_id=row.pk)
    # The worker died after the provider accepted: the row still says `sending`.
    Notification.objects.filter(pk=row.pk).update(
        status=S.SENDING, provider_message_id="", claimed_at=None
    )

    delivery.send(notification_id=row.pk)

    row.refresh_from_db()
    assert row.status == S.SENT
    assert row.provider_message_id == f"SMlocmem{row.pk}"
    assert len(locmem.outbox) == 1


def test_reconciling_a_message_the_provider_never_got_sends_it():
    row = text(status=S.SENDING, attempts=1)

    delivery.send(notification_id=row.pk)

    row.refresh_from_db()
    assert row.status == S.SENT
    assert row.attempts == 2
    assert len(locmem.outbox) == 1


def test_a_row_held_by_a_live_worker_is_left_alone():
    row = text(status=S.SENDING, claimed_at=timezone.now())

    assert delivery.send(notification_id=row.pk) is None
    assert locmem.outbox == []


def test_backoff_grows_exponentially_with_jitter_and_a_ceiling(settings):
    settings.NOTIFICATION_RETRY_BASE_SECONDS = 10
    settings.NOTIFICATION_RETRY_MAX_SECONDS = 60
    delays = {n: [delivery.retry_delay(n).total_seconds() for _ in range(50)] for n in (1, 2, 5)}

    assert all(5 <= d <= 10 for d in delays[1])
    assert all(10 <= d <= 20 for d in delays[2])
    assert all(30 <= d <= 60 for d in delays[5])
    assert len(set(delays[1])) > 1


def test_a_retry_after_longer_than_the_backoff_wins(settings):
    settings.NOTIFICATION_RETRY_BASE_SECONDS = 1

    assert delivery.retry_delay(1, retry_after=120).total_seconds() == 120


def test_an_email_is_sent_with_its_calendar_attachment(mailoutbox):
    row = Notification.objects.create(
        channel="email",
        recipient="alex@example.net",
        template="booking_confirmed",
        subject="Appointment confirmed",
        body="text part",
        html_body="<p>html part</p>",
        attachments=[
            {
                "filename": "invite.ics",
                "content_type": "text/calendar",
                "method": "REQUEST",
                "content": "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n",
            }
        ],
        dedupe_key="email:1",
    )

    delivery.send(notification_id=row.pk)

    row.refresh_from_db()
    assert row.status == S.SENT
    message = mailoutbox[0].message()
    parts = {part.get_content_type(): part for part in message.walk()}
    assert parts["text/calendar"].get_param("method") == "REQUEST"
    assert parts["text/html"]
    assert "attachment" in parts["text/calendar"]["Content-Disposition"]


@pytest.mark.parametrize("concurrency", [1, 4])
def test_a_batch_sends_each_row_once(settings, concurrency):
    settings.NOTIFICATIONS_SEND_CONCURRENCY = concurrency
    ids = [text().pk for _ in range(5)]

    delivery.send_many(notification_ids=ids + ids)
    delivery.send_many(notification_ids=ids)

    assert sorted(m.notification_id for m in locmem.outbox) == sorted(ids)
    assert set(Notification.objects.values_list("status", flat=True)) == {S.SENT}


def test_a_batch_records_each_outcome_and_skips_opted_out_numbers(settings):
    settings.NOTIFICATIONS_SEND_CONCURRENCY = 4
    ok = text()
    gone = text(recipient="+13125550100")
    optouts.opt_out(phone="+13125550100", source="keyword")
    locmem.failures.append(TransportError("Twilio 21211", permanent=True, code="21211"))
    first = text()

    delivery.send_many(notification_ids=[first.pk, ok.pk, gone.pk])

    statuses = dict(Notification.objects.values_list("pk", "status"))
    assert statuses[gone.pk] == S.SUPPRESSED
    assert sorted([statuses[first.pk], statuses[ok.pk]]) == [S.SENT, S.UNDELIVERABLE]
    assert len(locmem.outbox) == 1


def test_the_queue_receives_ids_only(settings, monkeypatch):
    import django_q.tasks

    settings.NOTIFICATIONS_DISPATCH = "queue"
    settings.NOTIFICATIONS_BATCH_SIZE = 2
    calls = []
    monkeypatch.setattr(django_q.tasks, "async_task", lambda *a, **k: calls.append((a, k)))

    delivery.dispatch([3, 4, 5])

    assert [args for args, _ in calls] == [
        ("notifications.tasks.send_notifications", [3, 4]),
        ("notifications.tasks.send_notifications", [5]),
    ]


def test_info_logs_carry_neither_the_number_nor_the_text(caplog):
    row = text(body="Bridgeway: a private text")

    with caplog.at_level("DEBUG"):
        delivery.send(notification_id=row.pk)

    logged = caplog.text
    assert PHONE not in logged and "private text" not in logged
    assert f"notification {row.pk}" in logged


def test_a_concurrent_batch_sends_working_links_unsealed_on_the_workers_own_thread(
    settings, clock, monkeypatch
):
    import threading

    from scheduling.booking import links
    from tests.notifications.conftest import book

    settings.NOTIFICATIONS_SEND_CONCURRENCY = 4
    appointment = book()
    texts = list(Notification.objects.filter(channel="sms").values_list("pk", flat=True))
    assert len(texts) >= 2
    unsealed_on: set[str] = set()
    real = links.token_for_message

    def spy(*args, **kwargs):
        unsealed_on.add(threading.current_thread().name)
        return real(*args, **kwargs)

    monkeypatch.setattr(links, "token_for_message", spy)
    locmem.outbox.clear()

    delivery.send_many(notification_ids=texts)

    assert len(locmem.outbox) == len(texts)
    assert all(links.manage_url(appointment) in m.body for m in locmem.outbox)
    assert unsealed_on == {threading.current_thread().name}
