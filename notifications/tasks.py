"""django-q2 entry points: ids in, a service call, nothing swallowed."""

from __future__ import annotations

from notifications import delivery, retention, webhooks


def send_notifications(notification_ids: list[int]) -> None:
    # fill: the task also sends other due rows, a batch at a time (see send_many).
    delivery.send_many(notification_ids=notification_ids, fill=True)


def send_notification(notification_id: int) -> None:
    delivery.send(notification_id=notification_id)


def sweep_due() -> int:
    from django.utils import timezone

    from notifications.health import record_sweep

    sent = delivery.sweep()
    record_sweep(timezone.now())  # after the sweep: a sweep that fails leaves no heartbeat
    return sent


def purge_expired() -> None:
    retention.purge_expired()


def deliver_webhooks(delivery_ids: list[int]) -> None:
    for pk in delivery_ids:
        webhooks.deliver(delivery_id=pk)


def sweep_webhooks() -> int:
    return webhooks.sweep()
