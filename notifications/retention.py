"""Keeping less: message bodies, inbound texts and spent verification codes are purged after
their retention period, so an old database (or a backup of it) holds as little as it can.

What stays: each message's row without its words (who was texted, when, with what result),
which is the accounting of disclosures 42 CFR Part 2 asks for.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from common.crypto import blind_index
from notifications.models import InboundMessage, Notification, NotificationStatus, PhoneVerification

S = NotificationStatus
FINAL = (S.SENT, S.DELIVERED, S.FAILED, S.UNDELIVERABLE, S.SUPPRESSED)
# A purged body is empty: an encrypted column can be compared in SQL with "" alone.
PURGED = ""


@dataclass(frozen=True)
class Purged:
    message_bodies: int
    inbound_texts: int
    verifications: int


def purge_expired(*, now: datetime | None = None) -> Purged:
    """Blank the words of settled messages past MESSAGE_RETENTION_DAYS, delete inbound texts
    past INBOUND_RETENTION_DAYS and verification rows a day after they expired."""
    now = now or timezone.now()
    bodies_before = now - timedelta(days=settings.MESSAGE_RETENTION_DAYS)
    bodies = (
        Notification.objects.filter(status__in=FINAL, updated_at__lt=bodies_before)
        .exclude(body=PURGED)
        .update(subject="", body=PURGED, html_body="", attachments=[], updated_at=now)
    )
    inbound, _ = InboundMessage.objects.filter(
        received_at__lt=now - timedelta(days=settings.INBOUND_RETENTION_DAYS)
    ).delete()
    verifications, _ = PhoneVerification.objects.filter(
        Q(expires_at__lt=now - timedelta(days=1))
        & (Q(verified_at__isnull=True) | Q(verified_at__lt=now - timedelta(days=1)))
    ).delete()
    return Purged(message_bodies=bodies, inbound_texts=inbound, verifications=verifications)


def forget_recipient(*, phone: str, email: str, subject_refs: list[str]) -> int:
    """Erase the words and the address of every message to this person or about these
    subjects (a patient's erasure); pending ones are suppressed, never sent."""
    who = Q(subject_ref__in=subject_refs)
    if phone:
        who |= Q(recipient_hash=blind_index(phone))
    if email:
        who |= Q(recipient_hash=blind_index(email))
    rows = Notification.objects.filter(who)
    rows.filter(status__in=(S.PENDING, S.SENDING)).update(status=S.SUPPRESSED)
    count = rows.update(
        recipient="erased",
        recipient_hash="",  # update() does not run the hash field's pre_save
        subject="",
        body=PURGED,
        html_body="",
        attachments=[],
        last_error="",
        updated_at=timezone.now(),
    )
    if phone:
        InboundMessage.objects.filter(from_hash=blind_index(phone)).delete()
        PhoneVerification.objects.filter(phone_hash=blind_index(phone)).delete()
    return count
