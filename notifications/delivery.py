"""Delivery: claim, send, record; reconcile, sweep, and the provider's status callbacks.

The worker claims a row with a conditional UPDATE before calling the provider, so two
workers never send the same row; a row left in `sending` by a dead worker is looked up at
the provider before any resend.
"""

from __future__ import annotations

import logging
import random
import smtplib
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from email.mime.text import MIMEText
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from common.metrics import count_message
from notifications.backends.base import (
    OPTED_OUT_CODE,
    UNDELIVERABLE_CODES,
    BaseSmsBackend,
    SendResult,
    SmsMessage,
    TransportError,
    get_backend,
)
from notifications.holds import held
from notifications.models import (
    Channel,
    Notification,
    NotificationStatus,
)
from notifications.optouts import is_opted_out, opt_out, opted_out_among
from notifications.sealing import unseal_attachments, unsealer

logger = logging.getLogger(__name__)

S = NotificationStatus


def dispatch(notification_ids: Sequence[int]) -> None:
    """Hand rows to the worker (ids only: no numbers or bodies in the task queue)."""
    ids = [int(pk) for pk in notification_ids]
    if not ids:
        return
    if getattr(settings, "NOTIFICATIONS_DISPATCH", "queue") == "sync":
        # Tests only: send in-process instead of through the queue.
        send_many(notification_ids=ids)
        return
    from django_q.tasks import async_task

    size = settings.NOTIFICATIONS_BATCH_SIZE
    for start in range(0, len(ids), size):
        async_task(
            "notifications.tasks.send_notifications",
            ids[start : start + size],
            task_name="send_notifications",
        )


def retry_delay(attempt: int, *, retry_after: float | None = None) -> timedelta:
    """Exponential backoff with jitter ("equal jitter"), at least any Retry-After."""
    base = settings.NOTIFICATION_RETRY_BASE_SECONDS * 2 ** max(attempt - 1, 0)
    ceiling = min(float(settings.NOTIFICATION_RETRY_MAX_SECONDS), base)
    delay = ceiling / 2 + random.uniform(0, ceiling / 2)  # noqa: S311 - jitter, not secrecy
    return timedelta(seconds=max(delay, retry_after or 0.0))


def status_callback_url(notification_id: int) -> str:
    return f"{settings.PUBLIC_BASE_URL}/webhooks/twilio/status/?n={notification_id}"


_pool: ThreadPoolExecutor | None = None


_pool_lock = threading.Lock()


def _sender_pool() -> ThreadPoolExecutor:
    """One pool per worker process for the HTTP calls only; its threads keep their HTTP
    session from task to task and never touch the database."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(
                max_workers=settings.NOTIFICATIONS_SEND_CONCURRENCY, thread_name_prefix="send"
            )
        return _pool


def send_many(*, notification_ids: Sequence[int], now: datetime | None = None) -> None:
    """Send a batch: claim it in one UPDATE, make the provider calls several at a time
    (its latency, not the CPU, is the limit), then record each outcome.

    The database work stays on this thread, so a worker holds one connection however
    many messages are in flight.
    """
    ids = list(dict.fromkeys(int(pk) for pk in notification_ids))
    if settings.NOTIFICATIONS_SEND_CONCURRENCY <= 1 or len(ids) <= 1:
        for pk in ids:
            send(notification_id=pk, now=now)
        return
    now = now or timezone.now()
    Notification.objects.filter(pk__in=ids, status=S.PENDING).update(
        status=S.SENDING, claimed_at=now, attempts=F("attempts") + 1, updated_at=now
    )
    claimed = list(Notification.objects.filter(pk__in=ids, status=S.SENDING, claimed_at=now))
    mine = {n.pk for n in claimed}
    for pk in ids:
        if pk not in mine:
            send(notification_id=pk, now=now)  # an unknown outcome to reconcile, or a no-op
    claimed = [n for n in claimed if not held(n, now)]
    texts = [n for n in claimed if n.channel == Channel.SMS]
    for notification in claimed:
        if notification.channel == Channel.EMAIL:
            _send_email(notification, now)
    opted_out = opted_out_among({n.recipient for n in texts})
    to_send = []
    for notification in texts:
        if notification.recipient in opted_out:
            _update(notification, status=S.SUPPRESSED, last_error="recipient opted out")
        else:
            to_send.append(notification)
    # Unsealing a link reads its appointment: done here, so the pool makes provider calls
    # only and never opens a database connection of its own.
    messages = [_sms_message(notification) for notification in to_send]
    outcomes = list(_sender_pool().map(_attempt_sms, to_send, [None] * len(to_send), messages))
    # One write transaction for the whole batch: on SQLite every commit is a turn at the
    # single write lock. Should the worker die here, the rows stay `sending` and are looked
    # up at the provider, never sent again blindly.
    with transaction.atomic():
        for notification, outcome in zip(to_send, outcomes, strict=True):
            _record_sms(notification, outcome, now)
    for notification in to_send:
        logger.info("notification %s %s: attempted", notification.pk, notification.template)


def _claim(pk: int, now: datetime) -> str | None:
    """Take the row for this worker: 'send' a pending row, or 'reconcile' an unknown one."""
    if (
        Notification.objects.filter(pk=pk, status=S.PENDING).update(
            status=S.SENDING, claimed_at=now, attempts=F("attempts") + 1, updated_at=now
        )
        == 1
    ):
        return "send"
    if (
        Notification.objects.filter(pk=pk, status=S.SENDING, claimed_at__isnull=True).update(
            claimed_at=now, updated_at=now
        )
        == 1
    ):
        return "reconcile"
    return None


def send(*, notification_id: int, now: datetime | None = None) -> Notification | None:
    """Send one row if it is still unsent; safe to call twice or from two workers."""
    now = now or timezone.now()
    mode = _claim(notification_id, now)
    if mode is None:
        return None
    notification = Notification.objects.get(pk=notification_id)
    if mode == "send" and held(notification, now):
        return notification
    if notification.channel == Channel.EMAIL:
        _send_email(notification, now)
    else:
        _send_sms(notification, now, reconcile=mode == "reconcile")
    notification.refresh_from_db(fields=["status"])
    logger.info(
        "notification %s %s: %s", notification.pk, notification.template, notification.status
    )
    return notification


def _update(notification: Notification, **fields: Any) -> int:
    """Write an outcome, but only while this worker still holds the claim."""
    fields["updated_at"] = timezone.now()
    written = Notification.objects.filter(pk=notification.pk, status=S.SENDING).update(**fields)
    if written:
        outcome = fields.get("status", S.SENDING)
        count_message(notification.channel, "retry" if outcome == S.PENDING else str(outcome))
    return written


def _retry_or_fail(notification: Notification, exc: TransportError, now: datetime) -> None:
    if notification.attempts >= settings.NOTIFICATION_MAX_ATTEMPTS:
        _update(notification, status=S.FAILED, last_error=exc.message[:500], error_code=exc.code)
        return
    _update(
        notification,
        status=S.PENDING,
        claimed_at=None,
        queued_at=None,
        send_after=now + retry_delay(notification.attempts, retry_after=exc.retry_after),
        last_error=exc.message[:500],
        error_code=exc.code,
    )


def _send_sms(notification: Notification, now: datetime, *, reconcile: bool) -> None:
    backend = get_backend()
    message = _sms_message(notification)
    if reconcile:
        # The last attempt's outcome is unknown: ask the provider before any resend.
        try:
            found = backend.lookup(message, notification.provider_message_id)
        except TransportError as exc:
            _update(
                notification,
                claimed_at=None,
                send_after=now + retry_delay(notification.attempts),
                last_error=f"lookup: {exc.message}"[:500],
            )
            return
        if found is not None:
            _update(
                notification,
                status=S.SENT,
                provider_message_id=found.message_id,
                sent_at=notification.sent_at or now,
                last_error="",
                error_code="",
            )
            return
        if notification.attempts >= settings.NOTIFICATION_MAX_ATTEMPTS:
            _update(notification, status=S.FAILED, last_error="not sent; no attempts left")
            return
        Notification.objects.filter(pk=notification.pk).update(attempts=F("attempts") + 1)
        notification.attempts += 1
    elif is_opted_out(notification.recipient):
        _update(notification, status=S.SUPPRESSED, last_error="recipient opted out")
        return

    _record_sms(notification, _attempt_sms(notification, backend, message), now)


def _sms_message(notification: Notification) -> SmsMessage:
    return SmsMessage(
        notification_id=notification.pk,
        to=notification.recipient,
        body=unsealer(notification.subject_ref)(notification.body),
        status_callback=status_callback_url(notification.pk),
        claimed_at=notification.created_at,
    )


def _attempt_sms(
    notification: Notification,
    backend: BaseSmsBackend | None = None,
    message: SmsMessage | None = None,
) -> SendResult | TransportError:
    """The provider call alone (no database): safe on a pool thread."""
    try:
        return (backend or get_backend()).send(message or _sms_message(notification))
    except TransportError as exc:
        return exc


def _record_sms(
    notification: Notification, outcome: SendResult | TransportError, now: datetime
) -> None:
    if isinstance(outcome, TransportError):
        exc = outcome
        if exc.permanent:
            if exc.code == OPTED_OUT_CODE:
                opt_out(phone=notification.recipient, source=f"carrier {exc.code}")
            status = S.UNDELIVERABLE if exc.code in UNDELIVERABLE_CODES else S.FAILED
            _update(notification, status=status, last_error=exc.message[:500], error_code=exc.code)
        elif exc.outcome_unknown:
            # Keep `sending` and release the claim: the next pass looks the message up first.
            _update(
                notification,
                claimed_at=None,
                queued_at=None,
                send_after=now + retry_delay(notification.attempts),
                last_error=exc.message[:500],
                error_code=exc.code,
            )
        else:
            _retry_or_fail(notification, exc, now)
        return
    if not _update(
        notification,
        status=S.SENT,
        provider_message_id=outcome.message_id,
        sent_at=now,
        last_error="",
        error_code="",
    ):
        # A status callback got here first and moved the row on; keep its status.
        Notification.objects.filter(pk=notification.pk, provider_message_id="").update(
            provider_message_id=outcome.message_id
        )


def _send_email(notification: Notification, now: datetime) -> None:
    # Email has no lookup: a worker dying mid-send may repeat an email, never a text.
    unseal = unsealer(notification.subject_ref)
    email = EmailMultiAlternatives(
        subject=notification.subject,
        body=unseal(notification.body),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[notification.recipient],
    )
    if notification.html_body:
        email.attach_alternative(unseal(notification.html_body), "text/html")
    for item in unseal_attachments(notification.attachments, unseal):
        maintype, _, subtype = str(item.get("content_type", "text/plain")).partition("/")
        part = MIMEText(str(item.get("content", "")), subtype or "plain", "utf-8")
        if item.get("method"):
            part.set_param("method", str(item["method"]))
        part.add_header("Content-Disposition", "attachment", filename=str(item["filename"]))
        email.attach(part)
    try:
        email.send()
    except smtplib.SMTPRecipientsRefused as exc:
        _update(notification, status=S.UNDELIVERABLE, last_error=str(exc)[:500], error_code="smtp")
        return
    except (smtplib.SMTPException, OSError) as exc:
        _retry_or_fail(notification, TransportError(type(exc).__name__, code="smtp"), now)
        return
    _update(notification, status=S.SENT, sent_at=now, last_error="", error_code="")


def due_notifications(now: datetime) -> QuerySet[Notification]:
    """Unsent rows whose time has come and that no live task is already holding.

    Served by notification_due_idx (status, send_after).
    """
    requeue_before = now - timedelta(seconds=settings.NOTIFICATION_SENDING_LEASE_SECONDS)
    return (
        Notification.objects.filter(
            Q(status=S.PENDING) | Q(status=S.SENDING, claimed_at__isnull=True),
            send_after__lte=now,
        )
        .filter(Q(queued_at__isnull=True) | Q(queued_at__lt=requeue_before))
        .order_by("send_after")
    )


def sweep(*, now: datetime | None = None, limit: int | None = None) -> int:
    """Queue everything due; release claims of workers that died. Returns rows queued.

    `now` is injectable so tests (and the integration tests' frozen clock) decide what is due.
    """
    now = now or timezone.now()
    lease = timedelta(seconds=settings.NOTIFICATION_SENDING_LEASE_SECONDS)
    Notification.objects.filter(status=S.SENDING, claimed_at__lt=now - lease).update(
        claimed_at=None, updated_at=now
    )
    limit = limit or settings.NOTIFICATION_SWEEP_LIMIT
    ids = list(due_notifications(now).values_list("pk", flat=True)[:limit])
    if ids:
        Notification.objects.filter(pk__in=ids).update(queued_at=now)
        dispatch(ids)
    return len(ids)


# A callback only moves a row forward: once delivered, failed or undeliverable (or
# suppressed, never sent) a late or replayed callback changes nothing, and so cannot
# undo "delivered" or opt a number out a second time after it said START.
_FINAL_STATUSES = frozenset({S.DELIVERED, S.FAILED, S.UNDELIVERABLE, S.SUPPRESSED})


def _reached_since(notification: Notification) -> bool:
    """Whether a later text to the same number was delivered: then a carrier's "opted
    out" about this one is stale, since the number evidently takes texts again."""
    since = notification.sent_at or notification.created_at
    return (
        Notification.objects.filter(
            channel=Channel.SMS,
            recipient_hash=notification.recipient_hash,
            status=S.DELIVERED,
            sent_at__gt=since,
        )
        .exclude(pk=notification.pk)
        .exists()
    )


@transaction.atomic
def handle_status(
    *, notification_id: int | None, message_sid: str, message_status: str, error_code: str = ""
) -> Notification | None:
    """Apply a delivery status callback; out-of-order callbacks never move a row backwards."""
    rows = Notification.objects.select_for_update()
    notification = None
    if notification_id is not None:
        notification = rows.filter(pk=notification_id).first()
    if notification is None and message_sid:
        notification = rows.filter(provider_message_id=message_sid).first()
    if notification is None:
        return None
    if notification.provider_message_id and notification.provider_message_id != message_sid:
        return notification  # a callback for some other message: ignore it
    if notification.status in _FINAL_STATUSES:
        return notification
    notification.provider_message_id = message_sid
    error_code = (error_code or "").strip()
    status = (message_status or "").lower()
    if status in ("undelivered", "failed"):
        if error_code == OPTED_OUT_CODE and not _reached_since(notification):
            opt_out(phone=notification.recipient, source=f"carrier {error_code}")
        notification.status = S.UNDELIVERABLE if error_code in UNDELIVERABLE_CODES else S.FAILED
        notification.error_code = error_code
        notification.last_error = f"carrier: {status} {error_code}".strip()
    elif status == "delivered":
        notification.status = S.DELIVERED
    elif notification.status in (S.PENDING, S.SENDING):
        # queued/sending/sent: the provider holds it, which also settles an unknown outcome.
        notification.status = S.SENT
    if notification.sent_at is None and notification.status != S.PENDING:
        notification.sent_at = timezone.now()
    notification.claimed_at = notification.claimed_at or timezone.now()
    notification.save()
    return notification
