"""The outbound webhook events of the appointment lifecycle (notifications.webhooks posts them).

A payload names things by id and FHIR reference only, with times and statuses: never the
patient's name, phone or email, the service's name or any note (a receiver that needs more
reads the FHIR resource with its own credentials).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from notifications import webhooks
from scheduling.models import Appointment, AppointmentEvent, AppointmentEventKind

Kind = AppointmentEventKind

EVENT_TYPES = {
    Kind.BOOKED: "appointment.booked",
    Kind.RESCHEDULED: "appointment.rescheduled",
    Kind.CANCELLED: "appointment.cancelled",
    Kind.ATTENDED: "appointment.attended",
    Kind.NO_SHOW: "appointment.no_show",
}


def appointment_payload(appointment: Appointment, event: AppointmentEvent) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": str(appointment.pk),
        "reference": f"Appointment/{appointment.pk}",
        "status": appointment.status,
        "previous_status": event.from_status or None,
        "start": appointment.start.isoformat(),
        "end": appointment.end.isoformat(),
        "practitioner": f"Practitioner/{appointment.provider_id}",
        "service": f"HealthcareService/{appointment.service_id}",
        "occurred_at": event.at.isoformat(),
        "actor": event.actor,
    }
    if event.kind == Kind.RESCHEDULED:
        data["previous_start"] = event.data.get("from")
    return {"appointment": data}


def publish_appointment_event(*, appointment: Appointment, event: AppointmentEvent) -> int:
    """In the change's transaction: one delivery per subscribed endpoint (or none)."""
    return publish_appointment_events(changes=[(appointment, event)])


def publish_appointment_events(*, changes: Sequence[tuple[Appointment, AppointmentEvent]]) -> int:
    """Several changes (a series' visits booked together) in one SELECT and one INSERT."""
    events = [
        (EVENT_TYPES[event.kind], appointment_payload(appointment, event))  # type: ignore[index]
        for appointment, event in changes
        if event.kind in EVENT_TYPES
    ]
    if not events:
        return 0
    return webhooks.publish_many(events=events, now=changes[0][1].at)
