"""Which message, to whom, for which lifecycle event and reminder.

The booking services call `record_appointment_notifications` inside their transaction, so
every message is an outbox row committed with the change that causes it. Wording lives in
template files under templates/scheduling/messages/; everything a stranger may read (SMS
bodies, email subjects) is discreet: the provider's first name and last initial, the time
in the reader's zone, a link, and never the service, specialty or reason.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.template.loader import render_to_string

from common.formatting import format_when
from notifications import recording as outbox
from notifications import text
from notifications.models import Channel
from scheduling.circle.contact import NAME_LIMIT, safe_contact, sms_name  # noqa: F401
from scheduling.circle.missed import record_missed_visit
from scheduling.circle.support import record_support_reminders

if TYPE_CHECKING:
    from scheduling.models import Appointment, AppointmentEvent

TEMPLATE_DIR = "scheduling/messages"
# The patient's reminders and their support persons' (scheduling.circle.support).
REMINDER_TEMPLATES = ("reminder", "support_reminder")

# Set while scheduling.booking.replies answers a text: the TwiML answer already tells the patient,
# so the lifecycle SMS to the patient would be a second, redundant text.
_answering_by_sms: ContextVar[bool] = ContextVar("answering_by_sms", default=False)


@contextlib.contextmanager
def answering_by_sms() -> Iterator[None]:
    token = _answering_by_sms.set(True)
    try:
        yield
    finally:
        _answering_by_sms.reset(token)


# Set while a series change (scheduling.booking.series) cancels several visits: it sends one
# message for them all, so each visit's own cancellation only withdraws its reminders.
_series_change: ContextVar[bool] = ContextVar("series_change", default=False)


@contextlib.contextmanager
def one_message_for_series() -> Iterator[None]:
    token = _series_change.set(True)
    try:
        yield
    finally:
        _series_change.reset(token)


# ---------------------------------------------------------------- pure helpers


@dataclass(frozen=True)
class Email:
    subject: str
    text: str
    html: str


def render_sms(name: str, context: dict[str, Any]) -> str:
    return text.render_sms(f"{TEMPLATE_DIR}/{name}.sms.txt", context)


def render_email(name: str, context: dict[str, Any]) -> Email:
    return Email(
        subject=text.render_line(f"{TEMPLATE_DIR}/{name}.subject.txt", context),
        text=text.render_text(f"{TEMPLATE_DIR}/{name}.email.txt", context) + "\n",
        html=render_to_string(f"{TEMPLATE_DIR}/{name}.email.html", context),
    )


# ---------------------------------------------------------------- context


def _manage_url(appointment: Appointment, *, sealed: bool) -> str:
    from scheduling.booking.links import manage_url, sealed_manage_url

    return sealed_manage_url(appointment) if sealed else manage_url(appointment)


def message_context(appointment: Appointment, *, sealed: bool = True) -> dict[str, Any]:
    """What a message about the appointment may say. Recorded messages hold sealed links
    (notifications.sealing); an answer sent straight back (a TwiML reply) holds real ones.
    The rebook link is the private page of the cancelled visit."""
    patient, provider = appointment.patient, appointment.provider
    link = _manage_url(appointment, sealed=sealed)
    contact = safe_contact(patient)  # discreet names, a preferred name
    return {
        "provider_name": contact.provider_name(sms_name(provider.name)),
        "patient_name": sms_name(contact.patient_name(patient.name)),
        "when": format_when(appointment.start, patient.timezone),
        "when_provider": format_when(appointment.start, provider.timezone),
        "manage_url": link,
        "rebook_url": link,
        "video_url": appointment.video_url,
        "service_name": appointment.service.name,  # provider emails' bodies only
        "contact_line": settings.SERVICE_CONTACT_LINE,
    }


def _invite_attachment(appointment: Appointment) -> list[dict[str, Any]]:
    from scheduling.booking.links import sealed_manage_url
    from scheduling.calendar.invites import invite_for
    from scheduling.calendar.series import occurrence_invite

    if appointment.series_id is not None:  # the patient's calendar holds the series' entry
        content, method = occurrence_invite(appointment)
    else:
        content, method = invite_for(appointment, manage_link=sealed_manage_url(appointment))
    return [
        {
            "filename": "invite.ics",
            "content_type": "text/calendar",
            "method": method,
            "content": content.decode("utf-8"),
        }
    ]


# ---------------------------------------------------------------- recording


def _ref(appointment: Appointment) -> str:
    return f"appointment:{appointment.id}"


def _sms_to_patient(
    batch: list[outbox.Outgoing],
    appointment: Appointment,
    name: str,
    key: str,
    context: dict[str, Any],
    **kwargs: Any,
) -> None:
    patient = appointment.patient
    if not (patient.sms_consent and patient.phone and safe_contact(patient).may_text):
        return
    outbox_message = outbox.Outgoing(
        channel=Channel.SMS,
        recipient=patient.phone,
        template=name,
        body=render_sms(name, context),
        dedupe_key=key,
        subject_ref=_ref(appointment),
        **kwargs,
    )
    batch.append(outbox_message)


def _email(
    batch: list[outbox.Outgoing],
    appointment: Appointment,
    recipient: str,
    name: str,
    key: str,
    context: dict[str, Any],
    *,
    invite: bool = False,
    **kwargs: Any,
) -> None:
    if not recipient:
        return
    email = render_email(name, context)
    outbox_message = outbox.Outgoing(
        channel=Channel.EMAIL,
        recipient=recipient,
        template=name,
        subject=email.subject,
        body=email.text,
        html_body=email.html,
        attachments=_invite_attachment(appointment) if invite else [],
        dedupe_key=key,
        subject_ref=_ref(appointment),
        **kwargs,
    )
    batch.append(outbox_message)


def record_texts_stopped(*, appointment: Appointment, now: datetime) -> None:
    """Email the patient (when we have an address) that texts stopped and the visit stands,
    with the link to change or cancel it."""
    batch: list[outbox.Outgoing] = []
    key = f"texts_stopped:{appointment.id}:{now.isoformat()}"
    context = message_context(appointment)
    _email(batch, appointment, appointment.patient.email, "texts_stopped", key, context)
    outbox.enqueue_many(batch)


def reminder_key(
    appointment: Appointment, hours: int, channel: str = Channel.SMS, revision: int = 0
) -> str:
    """A reminder's dedupe key; a change of the patient's contact rules (`revision`) makes
    new keys, so the reminders recorded under the old rules are replaced."""
    key = f"reminder-{hours}h:{channel}:{appointment.id}:{appointment.start.isoformat()}"
    return f"{key}:r{revision}" if revision else key


def record_reminders(
    *,
    appointment: Appointment,
    now: datetime,
    batch: list[outbox.Outgoing] | None = None,
    new_appointment: bool = False,
) -> list[str]:
    """Reminders at settings.REMINDER_OFFSETS_HOURS before the start, by SMS if the patient
    agreed to texts (moved out of their quiet hours), else by email, and one to each support
    person who agreed; earlier ones for this appointment become obsolete.

    With `batch`, the reminders join the caller's batch (recorded when it records the
    batch) instead of being recorded here. A `new_appointment` has no earlier reminders,
    so nothing is looked for to suppress.
    """
    own_batch = batch is None
    batch = [] if batch is None else batch
    patient = appointment.patient
    keys: list[str] = []
    contact = safe_contact(patient)
    by_sms = bool(patient.sms_consent and patient.phone and contact.may_text)
    context = message_context(appointment)
    for hours in sorted(set(settings.REMINDER_OFFSETS_HOURS), reverse=True):
        send_after = appointment.start - timedelta(hours=hours)
        if send_after <= now:
            continue  # booked inside this window: the confirmation is the reminder
        context = {**context, "hours": hours}
        if by_sms:
            text_at = contact.reminder_at(send_after, now=now)
            if text_at is None:
                continue  # its quiet hours have begun: the confirmation stands in for it
            key = reminder_key(appointment, hours, revision=contact.revision)
            _sms_to_patient(batch, appointment, "reminder", key, context, send_after=text_at)
        elif patient.email:
            key = reminder_key(appointment, hours, Channel.EMAIL, contact.revision)
            _email(
                batch, appointment, patient.email, "reminder", key, context, send_after=send_after
            )
        else:
            continue
        keys.append(key)
    keys += record_support_reminders(appointment=appointment, now=now, batch=batch)
    if not new_appointment:
        for template in REMINDER_TEMPLATES:
            outbox.suppress_pending(
                subject_ref=_ref(appointment),
                template=template,
                keep=keys,
                reason="obsolete: the appointment moved",
            )
    if own_batch:
        outbox.enqueue_many(batch)
    return keys


def cancel_reminders(*, appointment: Appointment, reason: str) -> int:
    return sum(
        outbox.suppress_pending(subject_ref=_ref(appointment), template=template, reason=reason)
        for template in REMINDER_TEMPLATES
    )


def record_appointment_notifications(*, appointment: Appointment, event: AppointmentEvent) -> None:
    """Record (in the caller's transaction) the messages this lifecycle event causes."""
    from common.events import Actor
    from scheduling.models import AppointmentStatus

    kind, now = event.kind, event.at
    if _series_change.get():
        if kind == "cancelled":
            cancel_reminders(appointment=appointment, reason="the appointment was cancelled")
        elif kind == "rescheduled" and appointment.status == AppointmentStatus.CONFIRMED:
            record_reminders(appointment=appointment, now=now)
        return
    patient, provider = appointment.patient, appointment.provider
    context = {**message_context(appointment), "actor": event.actor}

    def key(audience: str, channel: str) -> str:
        return f"{kind}:{audience}:{channel}:{appointment.id}:{event.pk}"

    sms_allowed = not _answering_by_sms.get()
    batch: list[outbox.Outgoing] = []
    if event.actor != Actor.PATIENT:
        # Not an answer to the patient's own action: their quiet hours hold the text.
        later = safe_contact(patient).text_at(now, deadline=appointment.start)
        sms_at = {"send_after": later} if later > now else {}
    else:
        sms_at = {}
    if kind == "booked":
        requested = appointment.status == AppointmentStatus.REQUESTED
        name = "booking_requested" if requested else "booking_confirmed"
        _sms_to_patient(batch, appointment, name, key("patient", "sms"), context, **sms_at)
        _email(
            batch,
            appointment,
            patient.email,
            name,
            key("patient", "email"),
            context,
            invite=not requested,
        )
        _email(
            batch,
            appointment,
            provider.email,
            "provider_request" if requested else "provider_booked",
            key("provider", "email"),
            context,
        )
        if not requested:
            record_reminders(appointment=appointment, now=now, batch=batch, new_appointment=True)
    elif kind == "confirmed":
        _sms_to_patient(batch, appointment, "approved", key("patient", "sms", **sms_at), context)
        _email(
            batch,
            appointment,
            patient.email,
            "approved",
            key("patient", "email"),
            context,
            invite=True,
        )
        record_reminders(appointment=appointment, now=now, batch=batch)
    elif kind == "rescheduled":
        if sms_allowed:
            _sms_to_patient(
                batch, appointment, "rescheduled", key("patient", "sms", **sms_at), context
            )
        _email(
            batch,
            appointment,
            patient.email,
            "rescheduled",
            key("patient", "email"),
            context,
            invite=True,
        )
        if event.actor != Actor.PROVIDER:
            _email(
                batch,
                appointment,
                provider.email,
                "provider_rescheduled",
                key("provider", "email"),
                context,
            )
        if appointment.status == AppointmentStatus.CONFIRMED:
            record_reminders(appointment=appointment, now=now, batch=batch)
        else:
            cancel_reminders(appointment=appointment, reason="obsolete: the appointment moved")
    elif kind == "cancelled":
        cancel_reminders(appointment=appointment, reason="the appointment was cancelled")
        by = {"patient": "patient", "provider": "provider"}.get(str(event.actor), "clinic")
        if sms_allowed:
            _sms_to_patient(
                batch, appointment, f"cancelled_by_{by}", key("patient", "sms"), context, **sms_at
            )
        _email(
            batch,
            appointment,
            patient.email,
            f"cancelled_by_{by}",
            key("patient", "email"),
            context,
            invite=True,
        )
        if event.actor != Actor.PROVIDER:
            _email(
                batch,
                appointment,
                provider.email,
                "provider_cancelled",
                key("provider", "email"),
                context,
            )
    elif kind in ("attended", "no_show"):
        cancel_reminders(appointment=appointment, reason="the visit has taken place")
        record_missed_visit(appointment=appointment, event=event, batch=batch, context=context)
    # patient_confirmed: the patient's "C" is answered by the reply itself.
    # Every key names this event's new row (and a booking's reminders its new appointment).
    outbox.enqueue_many(batch, new_keys=kind == "booked")
