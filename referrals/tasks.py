"""django-q2 entry points (scheduled by migration 0002): thin wrappers over the services."""

from __future__ import annotations

from referrals import escalation


def escalate_overdue() -> int:
    """Escalate every referral past its deadline and still unbooked, once each."""
    return escalation.escalate_overdue()


def nudge_unbooked() -> int:
    """Remind patients who have not booked by half the deadline, once each."""
    return escalation.nudge_unbooked()
