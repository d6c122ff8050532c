"""Two workers sweeping at the same moment still escalate each referral once (PostgreSQL)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection

from notifications.models import Notification
from referrals.escalation import escalate_overdue
from referrals.models import ReferralEvent
from tests.referrals.conftest import NOW


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_sweeps_escalate_each_referral_once(clock, create_referral):
    for i in range(6):
        create_referral(
            service="",
            urgency="urgent",
            patient={
                "name": f"Pat Doe{i}",
                "phone": f"+1212555030{i}",
                "timezone": "America/New_York",
                "state": "NY",
            },
        )
    later = NOW + timedelta(hours=73)
    barrier = threading.Barrier(2)
    counts: list[int] = []
    errors: list[BaseException] = []

    def sweep() -> None:
        try:
            barrier.wait(timeout=10)
            counts.append(escalate_overdue(now=later))
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    workers = [threading.Thread(target=sweep) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=30)
    assert not errors
    assert sum(counts) == 6
    assert ReferralEvent.objects.filter(kind="escalated").count() == 6
    assert Notification.objects.filter(template="referral_escalated_coordinator").count() == 6
