"""Claiming outbox rows for one worker, and handing rows to the queue.

A row is sent by the worker whose conditional UPDATE (status = 'pending') took it; the
UPDATE returns the ids it changed, so a worker knows exactly which rows are its own.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import connections, router
from django.db.models import F

from notifications.models import Notification, NotificationStatus

S = NotificationStatus


def due_others(ids: list[int], now: datetime, room: int) -> list[int]:
    """Up to `room` other pending rows already due, oldest first (notification_due_idx)."""
    if room <= 0:
        return []
    due = Notification.objects.filter(status=S.PENDING, send_after__lte=now).exclude(pk__in=ids)
    return list(due.order_by("send_after").values_list("pk", flat=True)[:room])


def claim_rows(ids: list[int], now: datetime) -> set[int]:
    """Take the pending rows among `ids` for this worker: one conditional UPDATE that
    returns the ids it changed (PostgreSQL, SQLite), so a row another worker took at the
    same instant is never mistaken for ours."""
    if not ids:
        return set()
    alias = router.db_for_write(Notification)
    connection = connections[alias]
    if not connection.features.can_return_rows_from_bulk_insert:  # no UPDATE … RETURNING
        Notification.objects.filter(pk__in=ids, status=S.PENDING).update(
            status=S.SENDING, claimed_at=now, attempts=F("attempts") + 1, updated_at=now
        )
        taken = Notification.objects.filter(pk__in=ids, status=S.SENDING, claimed_at=now)
        return set(taken.values_list("pk", flat=True))
    quote, meta = connection.ops.quote_name, Notification._meta
    column = {f.name: quote(str(f.column)) for f in meta.concrete_fields}
    stamp = connection.ops.adapt_datetimefield_value(now)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {quote(meta.db_table)} SET {column['status']} = %s, "  # noqa: S608 - identifiers
            f"{column['claimed_at']} = %s, {column['updated_at']} = %s, "
            f"{column['attempts']} = {column['attempts']} + 1 "
            f"WHERE {column['id']} IN ({', '.join(['%s'] * len(ids))}) "
            f"AND {column['status']} = %s RETURNING {column['id']}",
            [S.SENDING, stamp, stamp, *ids, S.PENDING],
        )
        return {pk for (pk,) in cursor.fetchall()}


_brokers: dict[str, Any] = {}


def queue_broker() -> Any:
    """This process's django-q broker, made once: django-q makes one for every task it
    queues unless given one, and on Redis that is a new connection pool, a TCP connect and
    redis-py reading its package metadata from disk, about 2 ms of CPU a booking."""
    from django_q.brokers import get_broker
    from django_q.conf import Conf

    key = f"{Conf.CLUSTER_NAME}:{'orm' if Conf.ORM else 'redis'}"
    broker = _brokers.get(key)
    if broker is None:
        broker = _brokers[key] = get_broker()
    return broker
