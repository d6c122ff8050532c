"""A missed visit: one caring check-in to the patient, and the provider's flag.

When a provider marks a no-show, the patient gets one message, by text if they take texts
(else by email): no blame, no clinical words, a link to pick a new time with the same
provider, and the 988 line. It goes once the visit's time is over and outside the
patient's quiet hours. Its dedupe key names the visit, so however often attendance is
corrected back and forth, or the worker replays, a visit brings at most one check-in; a
correction to "attended" before it goes withdraws it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.template.loader import render_to_string

from notifications import recording as outbox
from notifications import text
from notifications.models import Channel
from scheduling.circle.contact import safe_contact, sms_name

if TYPE_CHECKING:
    from scheduling.models import Appointment, AppointmentEvent, Patient, Provider

TEMPLATE = "checkin"
IN_A_ROW = 2


def resources_url() -> str:
    return f"{settings.PUBLIC_BASE_URL}/resources/"


def record_missed_visit(
    *,
    appointment: Appointment,
    event: AppointmentEvent,
    batch: list[outbox.Outgoing],
    context: dict[str, Any],
) -> None:
    """Add the check-in for a no-show to `batch` (`context`: the visit's message context);
    withdraw an unsent one for an attended."""
    from scheduling.booking.links import sealed_manage_url

    ref = f"appointment:{appointment.id}"
    if event.kind != "no_show":
        outbox.suppress_pending(
            subject_ref=ref, template=TEMPLATE, reason="the visit was marked attended"
        )
        return
    patient = appointment.patient
    contact = safe_contact(patient)
    first = contact.patient_name(patient.name).split()
    context = {
        **context,
        "patient_name": sms_name(first[0] if first else ""),
        "rebook_url": f"{sealed_manage_url(appointment)}/rebook",
        "resources_url": resources_url(),
    }
    wanted = max(event.at, appointment.end)
    name = f"scheduling/circle/messages/{TEMPLATE}"
    if patient.sms_consent and patient.phone and contact.may_text:
        batch.append(
            outbox.Outgoing(
                channel=Channel.SMS,
                recipient=patient.phone,
                template=TEMPLATE,
                body=text.render_sms(f"{name}.sms.txt", context),
                dedupe_key=f"checkin:{appointment.id}",
                send_after=contact.text_at(wanted),
                subject_ref=ref,
            )
        )
    elif patient.email:
        batch.append(
            outbox.Outgoing(
                channel=Channel.EMAIL,
                recipient=patient.email,
                template=TEMPLATE,
                subject=text.render_line(f"{name}.subject.txt", context),
                body=text.render_text(f"{name}.email.txt", context) + "\n",
                html_body=render_to_string(f"{name}.email.html", context),
                dedupe_key=f"checkin:{appointment.id}:email",
                send_after=wanted,
                subject_ref=ref,
            )
        )


def missed_in_a_row(*, patient: Patient, provider: Provider) -> bool:
    """Whether the patient's last IN_A_ROW visits with this provider were all missed."""
    from scheduling.models import AppointmentStatus

    last = list(
        patient.appointments.filter(
            provider=provider,
            status__in=(AppointmentStatus.ATTENDED, AppointmentStatus.NO_SHOW),
        )
        .order_by("-start")
        .values_list("status", flat=True)[:IN_A_ROW]
    )
    return len(last) == IN_A_ROW and all(s == AppointmentStatus.NO_SHOW for s in last)
