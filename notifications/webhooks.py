"""Signed outbound webhooks: endpoints, the outbox of deliveries, and their delivery.

`publish()` runs in the caller's transaction and writes one WebhookDelivery row per active
endpoint subscribed to the event (the outbox): the event and its change commit or roll back
together. After commit a django-q2 task posts each row; a scheduled sweep picks up anything
a lost enqueue or a dead worker left. A worker claims a row with a conditional
`UPDATE … WHERE status = 'pending'`, so two workers never post the same delivery; a row
whose worker died mid-post is posted again after its lease, with the same `webhook-id`,
which receivers use to drop repeats (Standard Webhooks: at-least-once).

Requests are signed per Standard Webhooks (`webhook-id`, `webhook-timestamp`,
`webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`) with the
`standardwebhooks` library. Failures are retried on a schedule that spans a day; after
WEBHOOK_DISABLE_AFTER_FAILURES failed attempts in a row the endpoint is disabled and active
staff are emailed. Callers pass ids, times, statuses and FHIR references only: never names,
phones, emails or clinical text (this module cannot tell, so the builders are tested).
"""

from __future__ import annotations

import base64
import http.client
import json
import logging
import random
import secrets
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connections, router, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from common.errors import DomainError
from notifications import outbound
from notifications.models import (
    Channel,
    WebhookDelivery,
    WebhookDeliveryStatus,
    WebhookEndpoint,
)
from notifications.recording import enqueue

logger = logging.getLogger(__name__)

D = WebhookDeliveryStatus

EVENT_TYPES = (
    "appointment.booked",
    "appointment.rescheduled",
    "appointment.cancelled",
    "appointment.attended",
    "appointment.no_show",
    "referral.status_changed",
)

# Delay before each retry (Svix's schedule): the last attempt comes about 27 hours after
# the first, so a receiver down for most of a day still gets every event.
RETRY_SCHEDULE = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=10),
)
MAX_ATTEMPTS = len(RETRY_SCHEDULE) + 1


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def _invalid(field: str, message: str) -> DomainError:
    return DomainError("invalid", message, fields={field: [message]})


def clean_events(events: Any) -> list[str]:
    if not isinstance(events, list) or not events:
        raise _invalid("events", f"Pick one or more of: {', '.join(EVENT_TYPES)}.")
    unknown = [e for e in events if e not in EVENT_TYPES]
    if unknown:
        raise _invalid("events", f"Unknown event types: {unknown}.")
    return sorted(set(events))


def clean_secret(secret: str) -> str:
    if not secret:
        return new_secret()
    try:
        Webhook(secret)
    except Exception as exc:  # the library's own check: base64 after "whsec_"
        raise _invalid("secret", "The secret must be whsec_ followed by base64.") from exc
    if len(base64.b64decode(secret.removeprefix("whsec_") + "==")) < 24:
        raise _invalid("secret", "The secret must hold at least 24 random bytes.")
    return secret


def clean_url(url: str) -> str:
    try:
        outbound.check_url(url)
    except outbound.OutboundRefused as exc:
        raise _invalid("url", exc.message) from exc
    return url


@transaction.atomic
def register_endpoint(
    *, url: str, events: list[str], secret: str = "", description: str = ""
) -> WebhookEndpoint:
    """Check the URL (refusing private addresses) and store the endpoint with its secret."""
    return WebhookEndpoint.objects.create(
        url=clean_url(url),
        events=clean_events(events),
        secret=clean_secret(secret),
        description=description,
    )


@transaction.atomic
def update_endpoint(
    *,
    endpoint: WebhookEndpoint,
    url: str | None = None,
    events: list[str] | None = None,
    description: str | None = None,
    is_active: bool | None = None,
) -> WebhookEndpoint:
    if url is not None:
        endpoint.url = clean_url(url)
    if events is not None:
        endpoint.events = clean_events(events)
    if description is not None:
        endpoint.description = description
    if is_active is not None and is_active != endpoint.is_active:
        endpoint.is_active = is_active
        if is_active:  # turned back on: a fresh start
            endpoint.consecutive_failures = 0
            endpoint.disabled_at = None
            endpoint.disabled_reason = ""
    endpoint.save()
    return endpoint


def publish(*, event_type: str, data: dict[str, Any], now: datetime | None = None) -> int:
    """Record the event for every subscribed endpoint, in the caller's transaction.

    Returns the number of deliveries written. Must be called inside the change's own
    transaction (a rollback removes the deliveries with the change).
    """
    return publish_many(events=[(event_type, data)], now=now)


def publish_many(
    *, events: Sequence[tuple[str, dict[str, Any]]], now: datetime | None = None
) -> int:
    """`publish` for several events at once (a series' visits): one SELECT of endpoints and
    one INSERT, whatever their number."""
    for event_type, _ in events:
        if event_type not in EVENT_TYPES:
            raise ValueError(f"unknown webhook event {event_type!r}")
    if not events:
        return 0
    now = now or timezone.now()
    endpoints = _active_endpoints()
    rows = [
        WebhookDelivery(
            endpoint_id=endpoint_id,
            message_id=f"msg_{uuid.uuid4().hex}",
            event_type=event_type,
            payload={"type": event_type, "timestamp": now.isoformat(), "data": data},
            send_after=now,
            queued_at=now,
        )
        for event_type, data in events
        for endpoint_id, subscribed in endpoints
        if event_type in subscribed
    ]
    if not rows:
        return 0
    # PostgreSQL and SQLite (3.35+) return the new ids from the one INSERT.
    ids = [row.pk for row in WebhookDelivery.objects.bulk_create(rows)]
    transaction.on_commit(lambda: dispatch(ids))
    return len(rows)


def _active_endpoints() -> list[tuple[int, list[str]]]:
    """(id, events) of the active endpoints. Hand-written: this runs in every booking's
    transaction, and the ORM's query building cost ~0.8 ms of CPU there."""
    connection = connections[router.db_for_read(WebhookEndpoint)]
    quote, meta = connection.ops.quote_name, WebhookEndpoint._meta
    events = meta.get_field("events")
    active = quote(str(meta.get_field("is_active").column))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {quote(str(meta.pk.column))}, {quote(str(events.column))} "  # type: ignore[union-attr]  # noqa: S608
            f"FROM {quote(meta.db_table)} WHERE {active}",
        )
        rows = cursor.fetchall()
    return [(pk, json.loads(value) if isinstance(value, str) else value) for pk, value in rows]


def dispatch(delivery_ids: Sequence[int]) -> None:
    """Hand rows to the worker (ids only)."""
    ids = [int(pk) for pk in delivery_ids]
    if not ids:
        return
    if getattr(settings, "NOTIFICATIONS_DISPATCH", "queue") == "sync":
        for pk in ids:
            deliver(delivery_id=pk)
        return
    from django_q.tasks import async_task

    from notifications.claims import queue_broker

    size = posts_per_task()
    for first in range(0, len(ids), size):
        async_task(
            "notifications.tasks.deliver_webhooks",
            ids[first : first + size],
            task_name="deliver_webhooks",
            broker=queue_broker(),
        )


def posts_per_task() -> int:
    """How many deliveries one task may post one after another and still end inside the
    cluster's timeout when every receiver takes WEBHOOK_TIMEOUT_SECONDS: a task killed
    mid-batch would leave the rest waiting a whole lease, and one slow receiver would hold
    every other endpoint's events behind it."""
    task_timeout = int(str(settings.Q_CLUSTER.get("timeout") or 60))
    return max(1, task_timeout // max(int(settings.WEBHOOK_TIMEOUT_SECONDS), 1) - 1)


def _claim(pk: int, now: datetime) -> bool:
    return (
        WebhookDelivery.objects.filter(pk=pk, status=D.PENDING).update(
            status=D.SENDING, claimed_at=now, attempts=F("attempts") + 1, updated_at=now
        )
        == 1
    )


def _update(delivery: WebhookDelivery, **fields: Any) -> int:
    """Write an outcome, but only while this worker still holds the claim."""
    fields["updated_at"] = timezone.now()
    return WebhookDelivery.objects.filter(
        pk=delivery.pk, status=D.SENDING, claimed_at=delivery.claimed_at
    ).update(**fields)


def signed_request(
    delivery: WebhookDelivery, secret: str, now: datetime
) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Bridgeway-Webhooks/1",
        "webhook-id": delivery.message_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(secret).sign(delivery.message_id, now, body),
    }
    return body.encode(), headers


def deliver(*, delivery_id: int, now: datetime | None = None) -> WebhookDelivery | None:
    """Post one delivery if it is still pending; safe to call twice or from two workers."""
    now = now or timezone.now()
    if not _claim(delivery_id, now):
        return None
    delivery = WebhookDelivery.objects.select_related("endpoint").get(pk=delivery_id)
    endpoint = delivery.endpoint
    if not endpoint.is_active:
        _update(delivery, status=D.FAILED, last_error="endpoint disabled")
        return delivery
    body, headers = signed_request(delivery, endpoint.secret, timezone.now())
    error, status = "", None
    try:
        status = outbound.post(
            endpoint.url, body=body, headers=headers, timeout=settings.WEBHOOK_TIMEOUT_SECONDS
        )
    except outbound.OutboundRefused as exc:
        error = exc.message
    except (OSError, http.client.HTTPException) as exc:
        error = f"{type(exc).__name__}: {exc}"
    if status is not None and 200 <= status < 300:
        _update(
            delivery,
            status=D.DELIVERED,
            delivered_at=now,
            response_status=status,
            last_error="",
        )
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(consecutive_failures=0)
    else:
        error = error or f"HTTP {status}"
        _record_failure(delivery, endpoint, error=error, response_status=status, now=now)
    delivery.refresh_from_db()
    logger.info("webhook delivery %s %s: %s", delivery.pk, delivery.event_type, delivery.status)
    return delivery


def retry_delay(attempt: int) -> timedelta:
    """The schedule's delay after `attempt` failed attempts, with up to 10% jitter."""
    base = RETRY_SCHEDULE[min(attempt, len(RETRY_SCHEDULE)) - 1]
    return base + base * random.uniform(0, 0.1)  # noqa: S311 - jitter, not secrecy


def _record_failure(
    delivery: WebhookDelivery,
    endpoint: WebhookEndpoint,
    *,
    error: str,
    response_status: int | None,
    now: datetime,
) -> None:
    fields: dict[str, Any] = {"last_error": error[:500], "response_status": response_status}
    if delivery.attempts >= MAX_ATTEMPTS:
        _update(delivery, status=D.FAILED, **fields)
    else:
        _update(
            delivery,
            status=D.PENDING,
            claimed_at=None,
            queued_at=None,
            send_after=now + retry_delay(delivery.attempts),
            **fields,
        )
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        consecutive_failures=F("consecutive_failures") + 1
    )
    endpoint.refresh_from_db(fields=["consecutive_failures", "is_active"])
    if (
        endpoint.is_active
        and endpoint.consecutive_failures >= settings.WEBHOOK_DISABLE_AFTER_FAILURES
    ):
        disable_endpoint(
            endpoint=endpoint,
            reason=f"{endpoint.consecutive_failures} failed attempts in a row; last: {error}"[:200],
            now=now,
        )


@transaction.atomic
def disable_endpoint(
    *, endpoint: WebhookEndpoint, reason: str, now: datetime | None = None
) -> bool:
    """Turn the endpoint off (once) and email every active staff login about it."""
    now = now or timezone.now()
    if not WebhookEndpoint.objects.filter(pk=endpoint.pk, is_active=True).update(
        is_active=False, disabled_at=now, disabled_reason=reason, updated_at=now
    ):
        return False
    # What it would have sent stays in the log, failed, for a "resend" once it works again.
    WebhookDelivery.objects.filter(endpoint=endpoint, status=D.PENDING).update(
        status=D.FAILED, last_error="endpoint disabled", updated_at=now
    )
    staff = (
        get_user_model()
        .objects.filter(is_staff=True, is_active=True)
        .exclude(email="")
        .values_list("email", flat=True)
    )
    admin_url = (
        f"{settings.PUBLIC_BASE_URL}/admin/notifications/webhookendpoint/{endpoint.pk}/change/"
    )
    for email in sorted(set(staff)):
        enqueue(
            channel=Channel.EMAIL,
            recipient=email,
            template="webhook_disabled",
            subject="A webhook endpoint was turned off",
            body=(
                f"Bridgeway stopped posting events to webhook endpoint {endpoint.pk} "
                f"({endpoint.url}) after repeated failures: {reason}\n\n"
                f"Fix the receiver, turn the endpoint back on and resend what it missed:\n"
                f"{admin_url}\n"
            ),
            dedupe_key=f"webhook-disabled:{endpoint.pk}:{now.isoformat()}:{email}",
        )
    logger.warning("webhook endpoint %s disabled: %s", endpoint.pk, reason)
    return True


@transaction.atomic
def resend(*, deliveries: QuerySet[WebhookDelivery], now: datetime | None = None) -> int:
    """Post finished deliveries again (same `webhook-id`), e.g. after a receiver is fixed."""
    now = now or timezone.now()
    ids = list(
        deliveries.filter(status__in=[D.FAILED, D.DELIVERED], endpoint__is_active=True).values_list(
            "pk", flat=True
        )
    )
    WebhookDelivery.objects.filter(pk__in=ids).update(
        status=D.PENDING,
        attempts=0,
        send_after=now,
        claimed_at=None,
        queued_at=now,
        last_error="",
        updated_at=now,
    )
    transaction.on_commit(lambda: dispatch(ids))
    return len(ids)


def due_deliveries(now: datetime) -> QuerySet[WebhookDelivery]:
    """Pending rows whose time has come and that no live task is holding.

    Served by webhook_delivery_due_idx (status, send_after).
    """
    requeue_before = now - timedelta(seconds=settings.NOTIFICATION_SENDING_LEASE_SECONDS)
    return (
        WebhookDelivery.objects.filter(status=D.PENDING, send_after__lte=now)
        .filter(Q(queued_at__isnull=True) | Q(queued_at__lt=requeue_before))
        .order_by("send_after")
    )


def sweep(*, now: datetime | None = None, limit: int = 5000) -> int:
    """Queue what is due; put back rows whose worker died mid-post. Returns rows queued."""
    now = now or timezone.now()
    lease = timedelta(seconds=settings.NOTIFICATION_SENDING_LEASE_SECONDS)
    # A worker that died after claiming: the receiver may or may not have the event, so it
    # is posted again with the same webhook-id (the receiver drops a repeat).
    WebhookDelivery.objects.filter(status=D.SENDING, claimed_at__lt=now - lease).update(
        status=D.PENDING, claimed_at=None, queued_at=None, updated_at=now
    )
    ids = list(due_deliveries(now).values_list("pk", flat=True)[:limit])
    if ids:
        WebhookDelivery.objects.filter(pk__in=ids).update(queued_at=now)
        dispatch(ids)
    return len(ids)
