"""How referrals follow appointments (called by scheduling through APPOINTMENT_OBSERVERS).

Both hooks run inside the booking services' transaction, so the referral moves with the
appointment or not at all.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from common.tokens import hash_token
from referrals import services
from referrals.models import Referral

if TYPE_CHECKING:
    from scheduling.models import Appointment, AppointmentEvent, Provider, Service


def _locked_by_token(token: str) -> Referral | None:
    if not isinstance(token, str) or not token or len(token) > 200:
        return None
    return (
        Referral.objects.select_for_update(of=("self",))
        .select_related("patient", "provider", "appointment", "created_by")
        .filter(token_hash=hash_token(token))
        .first()
    )


def check_booking(*, referral_token: str, provider: Provider, service: Service) -> None:
    """Refuse a booking through a referral link that is unknown, closed or for someone else."""
    services.check_referred_booking(
        referral=_locked_by_token(referral_token), provider=provider, service=service
    )


def appointment_changed(
    *, appointment: Appointment, event: AppointmentEvent, referral_token: str | None = None
) -> None:
    """Tie a referred booking to its referral and keep the referral in step afterwards."""
    if event.kind == "booked" and referral_token:
        referral = _locked_by_token(referral_token)
        if referral is None:
            return
        services.check_referred_booking(
            referral=referral, provider=appointment.provider, service=appointment.service
        )
        services.follow_appointment(
            referral=referral, appointment=appointment, event=event, booked=True
        )
        return
    if event.kind == "booked":
        return  # a booking without a referral token: no referral can point at it yet
    referral = (
        Referral.objects.select_for_update(of=("self",))
        .select_related("patient", "provider", "appointment", "created_by")
        .filter(appointment=appointment)
        .first()
    )
    if referral is not None:
        services.follow_appointment(
            referral=referral, appointment=appointment, event=event, booked=False
        )
