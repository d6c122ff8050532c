"""Live dispatch sends in batches (issue 18): a booking's task also sends other due rows."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from notifications import tasks
from notifications.backends import locmem
from notifications.models import Notification, NotificationStatus

S = NotificationStatus


def text(n: int, **overrides) -> Notification:
    fields = {
        "channel": "sms",
        "recipient": f"+1212555{n:04d}",
        "template": "booking_confirmed",
        "body": "Bridgeway: confirmed",
        "dedupe_key": f"live:{n}",
    }
    fields.update(overrides)
    return Notification.objects.create(**fields)


@pytest.fixture
def batched(settings, sms_outbox):
    settings.NOTIFICATIONS_SEND_CONCURRENCY = 4
    settings.NOTIFICATIONS_BATCH_SIZE = 50


@pytest.mark.django_db
def test_one_bookings_task_also_sends_the_other_due_texts(batched):
    rows = [text(n) for n in range(6)]

    tasks.send_notifications([rows[0].pk])

    assert sorted(m.notification_id for m in locmem.outbox) == sorted(r.pk for r in rows)
    assert set(Notification.objects.values_list("status", flat=True)) == {S.SENT}


@pytest.mark.django_db
def test_the_other_tasks_find_their_texts_sent_and_send_nothing(batched):
    rows = [text(n) for n in range(4)]
    tasks.send_notifications([rows[0].pk])

    for row in rows[1:]:
        tasks.send_notifications([row.pk])

    assert len(locmem.outbox) == 4
    assert set(Notification.objects.values_list("attempts", flat=True)) == {1}


@pytest.mark.django_db
def test_a_batch_takes_no_more_than_the_batch_size(batched, settings):
    settings.NOTIFICATIONS_BATCH_SIZE = 3
    rows = [text(n) for n in range(7)]

    tasks.send_notifications([rows[-1].pk])

    assert len(locmem.outbox) == 3
    assert rows[-1].pk in {m.notification_id for m in locmem.outbox}


@pytest.mark.django_db
def test_texts_not_yet_due_or_held_by_another_worker_are_left_alone(batched):
    mine = text(0)
    later = text(1, send_after=timezone.now() + timedelta(hours=2))
    held = text(2, status=S.SENDING, claimed_at=timezone.now(), attempts=1)

    tasks.send_notifications([mine.pk])

    assert [m.notification_id for m in locmem.outbox] == [mine.pk]
    later.refresh_from_db()
    held.refresh_from_db()
    assert (later.status, held.status, held.attempts) == (S.PENDING, S.SENDING, 1)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_workers_racing_over_the_same_due_texts_send_each_once(batched, settings):
    settings.NOTIFICATIONS_BATCH_SIZE = 10
    rows = [text(n) for n in range(60)]
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def worker(first: int) -> None:
        try:
            barrier.wait()
            for row in rows[first::4]:
                tasks.send_notifications([row.pk])
        except BaseException as exc:  # reported below: a thread's failure must fail the test
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    sent = [m.notification_id for m in locmem.outbox]
    assert sorted(sent) == sorted(r.pk for r in rows)  # every text, none twice
    assert set(Notification.objects.values_list("attempts", flat=True)) == {1}
