"""Which message, to whom, for which lifecycle event and reminder.

The booking services call `record_appointment_notifications` inside their transaction;
the notifications issue fills in what is recorded (outbox rows via notifications.services).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from scheduling.models import Appointment, AppointmentEvent


def record_appointment_notifications(*, appointment: Appointment, event: AppointmentEvent) -> None:
    """Record (in the caller's transaction) the messages this lifecycle event causes."""
    # Filled in by the notifications work: confirmation/cancellation SMS and email, reminders.
    return None
