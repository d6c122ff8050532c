"""The outbox: record, send (claim, call the backend, record), reconcile, sweep, inbound.

A message is a Notification row written in the caller's transaction. The worker claims it
with a conditional UPDATE before calling the provider, so two workers never send the same
row; a row left in `sending` by a dead worker is looked up at the provider before any resend.
"""

from __future__ import annotations

import logging
import random
import re
import smtplib
import threading
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.mime.text import MIMEText
from typing import Any, Protocol

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.module_loading import import_string

from notifications.backends.base import (
    BaseSmsBackend,
    SendResult,
    SmsMessage,
    TransportError,
    get_backend,
)
from notifications.models import (
    Channel,
    InboundMessage,
    Notification,
    NotificationStatus,
    SmsOptOut,
)

logger = logging.getLogger(__name__)

S = NotificationStatus
# Twilio's own opt-out keywords; a lone CANCEL is one of them, so no message asks for it.
STOP_WORDS = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
)
START_WORDS = frozenset({"START", "UNSTOP", "YES"})
HELP_WORDS = frozenset({"HELP", "INFO"})
OPTED_OUT_CODE = "21610"
UNDELIVERABLE_CODES = frozenset({"21610", "21211", "21614", "21408", "21612", "21606"})
FINAL_STATUSES = (S.DELIVERED, S.FAILED, S.UNDELIVERABLE, S.SUPPRESSED)

STOP_REPLY = "You will get no more texts from this number. Reply START to opt back in."
START_REPLY = "You will get texts from this number again. Reply HELP for help, STOP to opt out."


class ReplyHandler(Protocol):
    def __call__(self, *, from_number: str, body: str) -> str | None: ...


# ---------------------------------------------------------------- opt-outs


def normalize_phone(value: str) -> str:
    return re.sub(r"[^\d+]", "", value or "")


def is_opted_out(phone: str) -> bool:
    return SmsOptOut.objects.filter(phone=normalize_phone(phone)).exists()


def opt_out(*, phone: str, source: str) -> SmsOptOut:
    """Never text this number again until it sends START."""
    opt, _ = SmsOptOut.objects.get_or_create(
        phone=normalize_phone(phone), defaults={"source": source[:40]}
    )
    return opt


def opt_in(*, phone: str) -> None:
    SmsOptOut.objects.filter(phone=normalize_phone(phone)).delete()


# ---------------------------------------------------------------- recording


@transaction.atomic
def enqueue(
    *,
    channel: str,
    recipient: str,
    template: str,
    body: str,
    dedupe_key: str,
    subject: str = "",
    html_body: str = "",
    attachments: list[dict[str, Any]] | None = None,
    send_after: datetime | None = None,
    subject_ref: str = "",
) -> Notification:
    """Record one message in the caller's transaction; a due one is queued after commit.

    The dedupe key makes recording idempotent: the same key returns the existing row.
    """
    existing = Notification.objects.filter(dedupe_key=dedupe_key).first()
    if existing is not None:
        return existing
    now = timezone.now()
    send_after = send_after or now
    due = send_after <= now
    status, last_error = S.PENDING, ""
    if channel == Channel.SMS:
        recipient = normalize_phone(recipient)
        if is_opted_out(recipient):
            status, last_error = S.SUPPRESSED, "recipient opted out"
    try:
        with transaction.atomic():
            notification = Notification.objects.create(
                channel=channel,
                recipient=recipient,
                template=template,
                subject=subject,
                body=body,
                html_body=html_body,
                attachments=attachments or [],
                status=status,
                last_error=last_error,
                send_after=send_after,
                dedupe_key=dedupe_key,
                subject_ref=subject_ref,
                queued_at=now if due and status == S.PENDING else None,
            )
    except IntegrityError:
        # Recorded concurrently under the same key: that row is the message.
        return Notification.objects.get(dedupe_key=dedupe_key)
    if due and status == S.PENDING:
        pk = notification.pk
        transaction.on_commit(lambda: dispatch([pk]))
    return notification


@dataclass(frozen=True)
class Outgoing:
    """One message for `enqueue_many`; the fields mean what `enqueue`'s arguments mean."""

    channel: str
    recipient: str
    template: str
    body: str
    dedupe_key: str
    subject: str = ""
    html_body: str = ""
    attachments: list[dict[str, Any]] = field(default_factory=list)
    send_after: datetime | None = None
    subject_ref: str = ""


@transaction.atomic(savepoint=False)
def enqueue_many(messages: Sequence[Outgoing], *, new_keys: bool = False) -> list[str]:
    """Record several messages in the caller's transaction in a fixed number of statements.

    Same rules as `enqueue`: a dedupe key already recorded creates and sends nothing, a text
    to an opted-out number is recorded `suppressed`, a future `send_after` waits for the
    sweep. One SELECT finds the replayed keys, one finds opted-out numbers, one INSERT
    writes the rest (a key recorded concurrently is skipped by the unique constraint), and
    one SELECT after it finds the ids to hand to the worker after commit. Returns the dedupe
    keys that were not recorded before this call.

    `new_keys` is the caller's word that no key can exist yet (each names a row created in
    this transaction): the first SELECT is skipped, and where the database returns the ids
    of inserted rows the last one too. A clash would then raise IntegrityError and roll the
    caller back rather than record a message twice.
    """
    if not messages:
        return []
    by_key: dict[str, Outgoing] = {}
    for message in messages:
        by_key.setdefault(message.dedupe_key, message)  # first one wins, as with enqueue
    existing: set[str] = set()
    if not new_keys:
        existing = set(
            Notification.objects.filter(dedupe_key__in=list(by_key)).values_list(
                "dedupe_key", flat=True
            )
        )
    fresh = [m for key, m in by_key.items() if key not in existing]
    if not fresh:
        return []
    phones = {normalize_phone(m.recipient) for m in fresh if m.channel == Channel.SMS}
    opted_out = (
        set(SmsOptOut.objects.filter(phone__in=phones).values_list("phone", flat=True))
        if phones
        else set()
    )
    now = timezone.now()
    rows: list[Notification] = []
    due_keys: list[str] = []
    for message in fresh:
        recipient = message.recipient
        status, last_error = S.PENDING, ""
        if message.channel == Channel.SMS:
            recipient = normalize_phone(recipient)
            if recipient in opted_out:
                status, last_error = S.SUPPRESSED, "recipient opted out"
        send_after = message.send_after or now
        due = send_after <= now and status == S.PENDING
        if due:
            due_keys.append(message.dedupe_key)
        rows.append(
            Notification(
                channel=message.channel,
                recipient=recipient,
                template=message.template,
                subject=message.subject,
                body=message.body,
                html_body=message.html_body,
                attachments=list(message.attachments),
                status=status,
                last_error=last_error,
                send_after=send_after,
                dedupe_key=message.dedupe_key,
                subject_ref=message.subject_ref,
                queued_at=now if due else None,
            )
        )
    if new_keys and connection.features.can_return_rows_from_bulk_insert:
        created = Notification.objects.bulk_create(rows)
        due_set = set(due_keys)
        ids = [row.pk for row in created if row.dedupe_key in due_set]
        if ids:
            transaction.on_commit(lambda: dispatch(ids))
        return [m.dedupe_key for m in fresh]
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    if due_keys:
        # A key another transaction recorded at the same moment may be among these; handing
        # its id over twice is harmless, as the worker claims a row with a conditional UPDATE.
        ids = list(
            Notification.objects.filter(dedupe_key__in=due_keys, status=S.PENDING)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        if ids:
            transaction.on_commit(lambda: dispatch(ids))
    return [m.dedupe_key for m in fresh]


def suppress_pending(
    *, subject_ref: str, template: str, reason: str, keep: Iterable[str] = ()
) -> int:
    """Mark a caller's unsent rows of one template suppressed (e.g. obsolete reminders)."""
    return (
        Notification.objects.filter(subject_ref=subject_ref, template=template, status=S.PENDING)
        .exclude(dedupe_key__in=list(keep))
        .update(status=S.SUPPRESSED, last_error=reason[:500], updated_at=timezone.now())
    )


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


# ---------------------------------------------------------------- sending


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
    texts = [n for n in claimed if n.channel == Channel.SMS]
    for notification in claimed:
        if notification.channel == Channel.EMAIL:
            _send_email(notification, now)
    opted_out = set(
        SmsOptOut.objects.filter(phone__in={n.recipient for n in texts}).values_list(
            "phone", flat=True
        )
    )
    to_send = []
    for notification in texts:
        if notification.recipient in opted_out:
            _update(notification, status=S.SUPPRESSED, last_error="recipient opted out")
        else:
            to_send.append(notification)
    outcomes = list(_sender_pool().map(_attempt_sms, to_send))
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
    return Notification.objects.filter(pk=notification.pk, status=S.SENDING).update(**fields)


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
        body=notification.body,
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
    email = EmailMultiAlternatives(
        subject=notification.subject,
        body=notification.body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[notification.recipient],
    )
    if notification.html_body:
        email.attach_alternative(notification.html_body, "text/html")
    for item in notification.attachments:
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


# ---------------------------------------------------------------- the sweep


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


# ---------------------------------------------------------------- callbacks and replies


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
    notification.provider_message_id = message_sid
    error_code = (error_code or "").strip()
    status = (message_status or "").lower()
    if status in ("undelivered", "failed"):
        if error_code == OPTED_OUT_CODE:
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


def _word(body: str) -> str:
    return re.sub(r"[\s.!?]+$", "", (body or "").strip()).upper()


def _answer(*, from_number: str, body: str) -> str:
    word = _word(body)
    if word in STOP_WORDS:
        opt_out(phone=from_number, source="keyword")
        return STOP_REPLY
    if word in START_WORDS:
        opt_in(phone=from_number)
        return START_REPLY
    if word in HELP_WORDS:
        return f"{settings.SERVICE_CONTACT_LINE} Reply STOP to opt out."
    handler: ReplyHandler = import_string(settings.SMS_REPLY_HANDLER)
    answer = handler(from_number=from_number, body=body)
    return answer if answer is not None else settings.SERVICE_CONTACT_LINE


@transaction.atomic
def handle_inbound(*, message_sid: str, from_number: str, body: str) -> str:
    """Answer an inbound SMS once per MessageSid; a replay gets the stored answer."""
    from_number = normalize_phone(from_number)
    try:
        with transaction.atomic():
            inbound = InboundMessage.objects.create(
                message_sid=message_sid[:64], from_number=from_number[:20], body=body[:1600]
            )
    except IntegrityError:
        return InboundMessage.objects.get(message_sid=message_sid[:64]).reply
    inbound.reply = _answer(from_number=from_number, body=body)
    inbound.save(update_fields=["reply"])
    return inbound.reply
