"""Which message, to whom, for which lifecycle event and reminder.

The booking services call `record_appointment_notifications` inside their transaction, so
every message is an outbox row committed with the change that causes it. Wording lives in
template files under templates/scheduling/messages/; everything a stranger may read (SMS
bodies, email subjects) is discreet: the provider's first name and last initial, the time
in the reader's zone, a link, and never the service, specialty or reason.
"""

from __future__ import annotations

import contextlib
import math
import unicodedata
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.template.loader import render_to_string

from common.timezones import get_zone
from notifications import services as outbox
from notifications.models import Channel

if TYPE_CHECKING:
    from scheduling.models import Appointment, AppointmentEvent

TEMPLATE_DIR = "scheduling/messages"
MAX_SMS_SEGMENTS = 2
NAME_LIMIT = 24

# GSM 03.38: one character outside these forces UCS-2 and cuts a segment from 153 to 67.
GSM7_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = "^{}\\[~]|€\f"
_GSM7 = frozenset(GSM7_BASIC) | frozenset(GSM7_EXTENSION)
_LOOKALIKES = {
    "\u2018": "'",
    "\u2019": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u2013": "-",
    "\u2014": "-",
    "\u2026": "...",
    "\u00a0": " ",  # a non-breaking space alone would force UCS-2
}

# Set while scheduling.replies answers a text: the TwiML answer already tells the patient,
# so the lifecycle SMS to the patient would be a second, redundant text.
_answering_by_sms: ContextVar[bool] = ContextVar("answering_by_sms", default=False)


@contextlib.contextmanager
def answering_by_sms() -> Iterator[None]:
    token = _answering_by_sms.set(True)
    try:
        yield
    finally:
        _answering_by_sms.reset(token)


# ---------------------------------------------------------------- pure helpers


def gsm7(text: str) -> str:
    """Text reduced to the GSM-7 alphabet: look-alikes mapped, accents dropped, rest '?'."""
    out = []
    for char in text:
        char = _LOOKALIKES.get(char, char)
        if all(c in _GSM7 for c in char):
            out.append(char)
            continue
        plain = "".join(
            c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c)
        )
        out.append(plain if plain and all(c in _GSM7 for c in plain) else "?")
    return "".join(out)


def is_gsm7(text: str) -> bool:
    return all(char in _GSM7 for char in text)


def sms_segments(text: str) -> int:
    """Segments a GSM-7 text needs (extension characters take two septets)."""
    septets = sum(2 if char in GSM7_EXTENSION else 1 for char in text)
    return 1 if septets <= 160 else math.ceil(septets / 153)


def short_name(name: str) -> str:
    """First name and last initial ('Dana W.'), GSM-7, bounded so a text stays short."""
    parts = name.split()
    if len(parts) >= 2:
        name = f"{parts[0]} {parts[-1][0]}."
    return gsm7(name)[:NAME_LIMIT]


def format_when(moment: datetime, zone_name: str) -> str:
    """'Tue Mar 10, 9:00 AM CDT': the reader's wall clock with the zone's abbreviation."""
    local = moment.astimezone(get_zone(zone_name))
    hour = local.hour % 12 or 12
    abbreviation = local.tzname() or ""
    if abbreviation[:1] in "+-":
        abbreviation = f"UTC{abbreviation}"
    return f"{local:%a %b} {local.day}, {hour}:{local:%M} {local:%p} {abbreviation}".strip()


def render_sms(name: str, context: dict[str, Any]) -> str:
    text = render_to_string(f"{TEMPLATE_DIR}/{name}.sms.txt", context)
    return gsm7(" ".join(text.split()))


@dataclass(frozen=True)
class Email:
    subject: str
    text: str
    html: str


def render_email(name: str, context: dict[str, Any]) -> Email:
    subject = render_to_string(f"{TEMPLATE_DIR}/{name}.subject.txt", context)
    return Email(
        subject=" ".join(subject.split()),
        text=render_to_string(f"{TEMPLATE_DIR}/{name}.email.txt", context).strip() + "\n",
        html=render_to_string(f"{TEMPLATE_DIR}/{name}.email.html", context),
    )


# ---------------------------------------------------------------- context


def _manage_url(appointment: Appointment) -> str:
    from scheduling.links import manage_url

    return manage_url(appointment)


def rebook_url(appointment: Appointment) -> str:
    """Where a cancelled patient books again: the private page of the cancelled visit."""
    return _manage_url(appointment)


def message_context(appointment: Appointment) -> dict[str, Any]:
    patient, provider = appointment.patient, appointment.provider
    return {
        "provider_name": short_name(provider.name),
        "patient_name": short_name(patient.name),
        "when": format_when(appointment.start, patient.timezone),
        "when_provider": format_when(appointment.start, provider.timezone),
        "manage_url": _manage_url(appointment),
        "rebook_url": rebook_url(appointment),
        "video_url": appointment.video_url,
        "service_name": appointment.service.name,  # provider emails' bodies only
        "contact_line": settings.SERVICE_CONTACT_LINE,
    }


def _invite_attachment(appointment: Appointment) -> list[dict[str, Any]]:
    try:
        from scheduling.ical import invite_for
    except ImportError:  # the iCalendar module has not landed yet
        return []
    content, method = invite_for(appointment)
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
    if not (patient.sms_consent and patient.phone):
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


def reminder_key(appointment: Appointment, hours: int, channel: str = Channel.SMS) -> str:
    return f"reminder-{hours}h:{channel}:{appointment.id}:{appointment.start.isoformat()}"


def record_reminders(
    *,
    appointment: Appointment,
    now: datetime,
    batch: list[outbox.Outgoing] | None = None,
    new_appointment: bool = False,
) -> list[str]:
    """Reminders at settings.REMINDER_OFFSETS_HOURS before the start, by SMS if the patient
    agreed to texts, else by email; earlier ones for this appointment become obsolete.

    With `batch`, the reminders join the caller's batch (recorded when it records the
    batch) instead of being recorded here. A `new_appointment` has no earlier reminders,
    so nothing is looked for to suppress.
    """
    own_batch = batch is None
    batch = [] if batch is None else batch
    patient = appointment.patient
    keys: list[str] = []
    by_sms = bool(patient.sms_consent and patient.phone)
    context = message_context(appointment)
    for hours in sorted(set(settings.REMINDER_OFFSETS_HOURS), reverse=True):
        send_after = appointment.start - timedelta(hours=hours)
        if send_after <= now:
            continue  # booked inside this window: the confirmation is the reminder
        context = {**context, "hours": hours}
        if by_sms:
            key = reminder_key(appointment, hours)
            _sms_to_patient(batch, appointment, "reminder", key, context, send_after=send_after)
        elif patient.email:
            key = reminder_key(appointment, hours, Channel.EMAIL)
            _email(
                batch, appointment, patient.email, "reminder", key, context, send_after=send_after
            )
        else:
            continue
        keys.append(key)
    if not new_appointment:
        outbox.suppress_pending(
            subject_ref=_ref(appointment),
            template="reminder",
            keep=keys,
            reason="obsolete: the appointment moved",
        )
    if own_batch:
        outbox.enqueue_many(batch)
    return keys


def cancel_reminders(*, appointment: Appointment, reason: str) -> int:
    return outbox.suppress_pending(
        subject_ref=_ref(appointment), template="reminder", reason=reason
    )


def record_appointment_notifications(*, appointment: Appointment, event: AppointmentEvent) -> None:
    """Record (in the caller's transaction) the messages this lifecycle event causes."""
    from scheduling.models import Actor, AppointmentStatus

    patient, provider = appointment.patient, appointment.provider
    context = {**message_context(appointment), "actor": event.actor}
    kind, now = event.kind, event.at

    def key(audience: str, channel: str) -> str:
        return f"{kind}:{audience}:{channel}:{appointment.id}:{event.pk}"

    sms_allowed = not _answering_by_sms.get()
    batch: list[outbox.Outgoing] = []
    if kind == "booked":
        requested = appointment.status == AppointmentStatus.REQUESTED
        name = "booking_requested" if requested else "booking_confirmed"
        _sms_to_patient(batch, appointment, name, key("patient", "sms"), context)
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
        _sms_to_patient(batch, appointment, "approved", key("patient", "sms"), context)
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
            _sms_to_patient(batch, appointment, "rescheduled", key("patient", "sms"), context)
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
                batch, appointment, f"cancelled_by_{by}", key("patient", "sms"), context
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
    # patient_confirmed: the patient's "C" is answered by the reply itself.
    # Every key names this event's new row (and a booking's reminders its new appointment).
    outbox.enqueue_many(batch, new_keys=kind == "booked")
