"""The sweep: due rows are queued once, dead workers' claims are released, the index is used."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from notifications import delivery
from notifications.backends import locmem
from notifications.models import Notification, NotificationStatus

pytestmark = pytest.mark.django_db
S = NotificationStatus


def row(n: int, **overrides) -> Notification:
    fields = {
        "channel": "sms",
        "recipient": "+12125550142",
        "template": "reminder",
        "body": f"text {n}",
        "dedupe_key": f"sweep:{n}",
    }
    fields.update(overrides)
    return Notification.objects.create(**fields)


@pytest.fixture
def queued(monkeypatch):
    """Capture what the sweep hands to the queue instead of sending."""
    batches: list[list[int]] = []
    monkeypatch.setattr(delivery, "dispatch", lambda ids: batches.append(list(ids)))
    return batches


def test_a_future_row_is_not_queued(queued):
    now = timezone.now()
    row(1, send_after=now + timedelta(minutes=5))

    assert delivery.sweep(now=now) == 0
    assert queued == []


def test_a_due_row_is_queued_at_the_injected_time(queued):
    now = timezone.now()
    due = row(1, send_after=now + timedelta(hours=22))

    assert delivery.sweep(now=now + timedelta(hours=22)) == 1
    assert queued == [[due.pk]]


def test_rows_already_finished_are_not_queued(queued):
    for n, status in enumerate([S.SENT, S.DELIVERED, S.FAILED, S.SUPPRESSED, S.UNDELIVERABLE]):
        row(n, status=status)

    assert delivery.sweep() == 0


def test_a_row_queued_recently_is_not_queued_again(queued):
    now = timezone.now()
    row(1)

    delivery.sweep(now=now)
    delivery.sweep(now=now + timedelta(seconds=30))

    assert len(queued) == 1


def test_a_lost_enqueue_is_picked_up_after_the_lease(queued, settings):
    settings.NOTIFICATION_SENDING_LEASE_SECONDS = 120
    now = timezone.now()
    row(1, queued_at=now)

    assert delivery.sweep(now=now + timedelta(seconds=60)) == 0
    assert delivery.sweep(now=now + timedelta(seconds=121)) == 1


def test_a_dead_workers_claim_is_released_and_the_row_reconciled(queued, settings):
    settings.NOTIFICATION_SENDING_LEASE_SECONDS = 120
    now = timezone.now()
    stuck = row(1, status=S.SENDING, claimed_at=now, attempts=1)

    assert delivery.sweep(now=now + timedelta(seconds=60)) == 0
    assert delivery.sweep(now=now + timedelta(seconds=121)) == 1

    stuck.refresh_from_db()
    assert stuck.claimed_at is None
    assert queued == [[stuck.pk]]


def test_the_sweep_then_sends_through_the_backend(settings):
    settings.NOTIFICATIONS_DISPATCH = "sync"
    row(1)

    delivery.sweep()

    assert [m.body for m in locmem.outbox] == ["text 1"]


def test_the_due_query_uses_the_due_index():
    sql, params = delivery.due_notifications(timezone.now()).query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET enable_seqscan = off")
            cursor.execute(f"EXPLAIN {sql}", params)
        else:
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        plan = " ".join(str(line) for line in cursor.fetchall())

    assert "notification_due_idx" in plan, plan


def test_the_sweep_schedule_exists_after_migrate():
    from django_q.models import Schedule

    schedule = Schedule.objects.get(name="notifications.sweep_due")
    assert schedule.func == "notifications.tasks.sweep_due"
    assert schedule.schedule_type == Schedule.MINUTES
    assert schedule.minutes == 1


def test_twilio_without_credentials_fails_the_system_check(settings):
    from notifications.checks import check_sms_settings

    settings.SMS_BACKEND = "notifications.backends.twilio.TwilioBackend"
    settings.TWILIO_ACCOUNT_SID = ""
    settings.TWILIO_FROM_NUMBER = ""
    settings.TWILIO_MESSAGING_SERVICE_SID = ""

    ids = {problem.id for problem in check_sms_settings()}

    assert {"notifications.E001", "notifications.E002"} <= ids


def test_the_shipped_sending_settings_pass_the_system_check(settings):
    from notifications.checks import check_sms_settings

    settings.NOTIFICATIONS_SEND_CONCURRENCY = 25  # the unit tests' fixture sends one at a time

    assert check_sms_settings() == []
