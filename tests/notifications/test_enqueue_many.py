"""enqueue_many: several messages recorded at once, with enqueue's rules."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from notifications import delivery
from notifications.models import Notification, NotificationStatus
from notifications.optouts import opt_out
from notifications.recording import Outgoing, enqueue_many

pytestmark = pytest.mark.django_db
S = NotificationStatus
PHONE = "+12125550142"


@pytest.fixture
def queued(monkeypatch: Any) -> list[list[int]]:
    """What is handed to the worker after commit, instead of sending it."""
    batches: list[list[int]] = []
    monkeypatch.setattr(delivery, "dispatch", lambda ids: batches.append(list(ids)))
    return batches


def sms(key: str, **overrides: Any) -> Outgoing:
    fields: dict[str, Any] = {
        "channel": "sms",
        "recipient": "+1 (212) 555-0142",
        "template": "booking_confirmed",
        "body": "See you soon.",
        "dedupe_key": key,
        "subject_ref": "appointment:x",
    }
    fields.update(overrides)
    return Outgoing(**fields)


def email(key: str, **overrides: Any) -> Outgoing:
    return sms(key, channel="email", recipient="alex@example.net", subject="Hi", **overrides)


def test_a_replayed_key_creates_nothing_and_sends_nothing(
    queued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        enqueue_many([sms("k:1")])
    first = Notification.objects.get()

    with django_capture_on_commit_callbacks(execute=True):
        created = enqueue_many([sms("k:1", body="other")])

    assert created == []
    assert Notification.objects.get() == first
    assert Notification.objects.get().body == "See you soon."
    assert queued == [[first.pk]]


def test_a_text_to_an_opted_out_number_is_recorded_suppressed_and_not_sent(
    queued, django_capture_on_commit_callbacks
):
    opt_out(phone=PHONE, source="keyword")

    with django_capture_on_commit_callbacks(execute=True):
        enqueue_many([sms("k:1"), email("k:2")])

    text = Notification.objects.get(dedupe_key="k:1")
    assert (text.status, text.recipient, text.queued_at) == (S.SUPPRESSED, PHONE, None)
    assert text.last_error == "recipient opted out"
    assert Notification.objects.get(dedupe_key="k:2").status == S.PENDING
    assert queued == [[Notification.objects.get(dedupe_key="k:2").pk]]


def test_a_future_message_waits_and_due_ones_go_in_one_batch(
    queued, django_capture_on_commit_callbacks
):
    later = timezone.now() + timedelta(hours=3)

    with django_capture_on_commit_callbacks(execute=True):
        enqueue_many([sms("k:1"), email("k:2"), sms("k:3", send_after=later)])

    future = Notification.objects.get(dedupe_key="k:3")
    assert (future.send_after, future.queued_at) == (later, None)
    due = sorted(Notification.objects.exclude(dedupe_key="k:3").values_list("pk", flat=True))
    assert [sorted(batch) for batch in queued] == [due]
    assert set(Notification.objects.values_list("subject_ref", flat=True)) == {"appointment:x"}


def test_new_keys_records_the_same_rows_and_dispatches_the_due_ones(
    queued, django_capture_on_commit_callbacks
):
    later = timezone.now() + timedelta(hours=3)

    with django_capture_on_commit_callbacks(execute=True):
        enqueue_many([sms("k:1"), sms("k:2", send_after=later)], new_keys=True)

    assert queued == [[Notification.objects.get(dedupe_key="k:1").pk]]
    assert Notification.objects.get(dedupe_key="k:2").queued_at is None


def test_a_replay_together_with_new_messages_records_only_the_new(
    queued, django_capture_on_commit_callbacks
):
    enqueue_many([sms("k:1")])
    queued.clear()

    with django_capture_on_commit_callbacks(execute=True):
        created = enqueue_many([sms("k:1"), email("k:2")])

    assert created == ["k:2"]
    assert Notification.objects.count() == 2
    assert queued == [[Notification.objects.get(dedupe_key="k:2").pk]]
