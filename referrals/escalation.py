"""Escalation and nudges (run by referrals.tasks): referrals past their deadline go back to
the coordinator; patients who have not booked by half the deadline get one reminder."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from common.events import Actor
from referrals import messages
from referrals.models import ESCALATABLE_STATUSES, Referral, ReferralStatus
from referrals.services import bookable_offers

S = ReferralStatus


def escalate_overdue(*, now: datetime | None = None) -> int:
    """Mark every referral past its deadline and still unbooked as escalated and tell the
    coordinator and the referrer; each referral once, however often or concurrently it runs."""
    now = now or timezone.now()
    count = 0
    due = Referral.objects.filter(
        status__in=ESCALATABLE_STATUSES, escalated_at__isnull=True, deadline_at__lte=now
    ).values_list("pk", flat=True)
    for pk in list(due[:500]):
        with transaction.atomic():
            referral = (
                Referral.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("created_by", "provider")
                .filter(
                    pk=pk,
                    status__in=ESCALATABLE_STATUSES,
                    escalated_at__isnull=True,
                    deadline_at__lte=now,
                )
                .first()
            )
            if referral is None:  # taken by another worker, or booked meanwhile
                continue
            referral.escalated_at = now
            referral.transition_to(
                S.ESCALATED,
                kind="escalated",
                actor=Actor.SYSTEM,
                data={"deadline_at": referral.deadline_at.isoformat()},
                now=now,
            )
            messages.tell_referrer(referral=referral, what="escalated", key="escalated")
            messages.tell_coordinator_escalated(referral=referral)
            count += 1
    return count


NUDGE_STATUSES = (S.OFFERED, S.ACCEPTED, S.NO_SHOW)


def nudge_unbooked(*, now: datetime | None = None) -> int:
    """Send one reminder of the link to patients who have not booked by half the deadline."""
    now = now or timezone.now()
    count = 0
    due = Referral.objects.filter(
        status__in=NUDGE_STATUSES, nudged_at__isnull=True, nudge_at__lte=now, deadline_at__gt=now
    ).values_list("pk", flat=True)
    for pk in list(due[:500]):
        with transaction.atomic():
            claimed = Referral.objects.filter(
                pk=pk, status__in=NUDGE_STATUSES, nudged_at__isnull=True
            ).update(nudged_at=now)
            if not claimed:
                continue
            referral = Referral.objects.select_related("patient").get(pk=pk)
            providers = [o.provider for o in bookable_offers(referral)]
            if providers:
                messages.send_patient_link(
                    referral=referral, providers=providers, key="nudge", nudge=True
                )
            referral.record_event(kind="nudged", actor=Actor.SYSTEM, sent=bool(providers))
            count += 1
    return count
