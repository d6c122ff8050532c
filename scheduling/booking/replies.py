"""The inbound SMS reply handler (settings.SMS_REPLY_HANDLER): C/1 confirms, X/2 cancels.

notifications has already handled the carrier words (STOP, START, HELP) and records each
MessageSid once; this module gives the words meaning for the patient's next appointment.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.utils import timezone

from common.errors import DomainError
from common.events import Actor
from common.phones import phone_hash
from notifications.inbound import reply_word
from scheduling.booking import messages
from scheduling.models import ACTIVE_STATUSES, Appointment, AppointmentStatus, Patient

logger = logging.getLogger(__name__)

CONFIRM_WORDS = frozenset({"C", "1"})
CANCEL_WORDS = frozenset({"X", "2"})


def next_appointment(*, phone: str) -> Appointment | None:
    """The patient's next requested or confirmed appointment that has not started."""
    patient = Patient.objects.filter(phone_hash=phone_hash(phone)).first()
    if patient is None:
        return None
    return (
        Appointment.objects.select_related("provider", "service", "patient")
        .filter(patient=patient, status__in=ACTIVE_STATUSES, start__gt=timezone.now())
        .order_by("start")
        .first()
    )


def handle_reply(*, from_number: str, body: str) -> str | None:
    """Answer one inbound text; an unknown number learns nothing about anyone."""
    from scheduling.booking import services

    word = reply_word(body)
    if word not in CONFIRM_WORDS | CANCEL_WORDS:
        return messages.render_sms("reply_help", {})
    contact = {"contact_line": settings.SERVICE_CONTACT_LINE}
    appointment = next_appointment(phone=from_number)
    if appointment is None:
        return messages.render_sms("reply_no_match", contact)
    try:
        with messages.answering_by_sms():
            if word in CONFIRM_WORDS:
                appointment = services.confirm_appointment(
                    appointment=appointment, actor=Actor.PATIENT
                )
                # Only the provider approves a request: say so rather than "confirmed".
                requested = appointment.status == AppointmentStatus.REQUESTED
                name = "reply_confirmed_request" if requested else "reply_confirmed"
            else:
                appointment = services.cancel_appointment(
                    appointment=appointment, actor=Actor.PATIENT, reason="Cancelled by text reply"
                )
                name = "reply_cancelled"
    except DomainError as exc:
        logger.info("text reply refused: %s", exc.code)
        return messages.render_sms("reply_failed", contact)
    return messages.render_sms(name, messages.message_context(appointment, sealed=False))
