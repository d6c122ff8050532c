"""Recording: a message is a Notification row written in the caller's transaction (the
outbox), handed to the worker on commit."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from common import sql
from common.phones import phone_key
from notifications import delivery
from notifications.models import (
    Channel,
    Notification,
    NotificationStatus,
)
from notifications.optouts import is_opted_out, opted_out_among

S = NotificationStatus


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
        recipient = phone_key(recipient)
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
        transaction.on_commit(lambda: delivery.dispatch([pk]))
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
    phones = {phone_key(m.recipient) for m in fresh if m.channel == Channel.SMS}
    opted_out = opted_out_among(phones)
    now = timezone.now()
    rows: list[Notification] = []
    due_keys: list[str] = []
    for message in fresh:
        recipient = message.recipient
        status, last_error = S.PENDING, ""
        if message.channel == Channel.SMS:
            recipient = phone_key(recipient)
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
        created = sql.insert(rows)  # one INSERT … RETURNING id, without bulk_create's cost
        due_set = set(due_keys)
        ids = [row.pk for row in created if row.dedupe_key in due_set]
        if ids:
            transaction.on_commit(lambda: delivery.dispatch(ids))
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
            transaction.on_commit(lambda: delivery.dispatch(ids))
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
