"""How waitlists hear that a place freed (named in settings.APPOINTMENT_OBSERVERS).

A cancellation frees its seat or time, and a move frees the old one: once the change has
committed, the worker looks for someone waiting at that provider (offers.offer_places).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scheduling.booking.waitlist.models import WaitlistEntry, WaitlistStatus
from scheduling.booking.waitlist.offers import dispatch_on_commit

if TYPE_CHECKING:
    from scheduling.models import Appointment, AppointmentEvent

FREEING = frozenset({"cancelled", "rescheduled"})


def appointment_changed(
    *, appointment: Appointment, event: AppointmentEvent, referral_token: str | None = None
) -> None:
    if event.kind not in FREEING:
        return
    waiting = WaitlistEntry.objects.filter(
        provider_id=appointment.provider_id, status=WaitlistStatus.WAITING
    )
    if waiting.exists():
        dispatch_on_commit({appointment.provider_id})
