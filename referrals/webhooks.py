"""The `referral.status_changed` webhook event (notifications.webhooks posts it).

Ids, statuses, times and FHIR references only: never the person's name, phone or email,
the referrer, the reason, notes or specialty.
"""

from __future__ import annotations

from typing import Any

from notifications import webhooks

# Called from Referral.transition_to, so it takes the rows without importing their module.
Referral = Any
ReferralEvent = Any


def referral_payload(referral: Referral, event: ReferralEvent) -> dict[str, Any]:
    return {
        "referral": {
            "id": str(referral.pk),
            "reference": f"ServiceRequest/{referral.pk}",
            "task": f"Task/{referral.pk}",
            "status": event.to_status,
            "previous_status": event.from_status or None,
            "step": event.kind,
            "appointment": (
                f"Appointment/{referral.appointment_id}" if referral.appointment_id else None
            ),
            "practitioner": f"Practitioner/{referral.provider_id}"
            if referral.provider_id
            else None,
            "organization": referral.organization_id,
            "urgency": referral.urgency,
            "deadline_at": referral.deadline_at.isoformat(),
            "occurred_at": event.at.isoformat(),
        }
    }


def publish_status_changed(*, referral: Referral, event: ReferralEvent) -> int:
    """In the change's transaction; a step that keeps the status (a re-offer) is no event."""
    if event.from_status == event.to_status:
        return 0
    return webhooks.publish(
        event_type="referral.status_changed",
        data=referral_payload(referral, event),
        now=event.at,
    )
