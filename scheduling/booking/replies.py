"""The inbound SMS reply handler (settings.SMS_REPLY_HANDLER): C/1 confirms, X/2 cancels;
and the opt-out observer (settings.SMS_OPT_OUT_OBSERVERS) that emails a patient who stops texts.

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
from scheduling.booking.links import series_manage_url
from scheduling.booking.waitlist import replies as waitlist_replies
from scheduling.booking.waitlist.services import leave_all
from scheduling.circle import support
from scheduling.circle.missed import resources_url
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


def texts_stopped(*, phone: str) -> None:
    """A patient who sent STOP still has a visit: email them (when we have an address) that
    texts stopped, that the visit stands, and the link to change or cancel it. Carriers treat
    "Cancel" as STOP, so this is also how a patient who meant to cancel by text finds out."""
    support.support_stopped(phone=phone)  # a support person's STOP ends their consent
    patient = Patient.objects.filter(phone_hash=phone_hash(phone)).first()
    if patient is not None:  # STOP to the offers' number also leaves every waitlist
        leave_all(patient=patient)
    appointment = next_appointment(phone=phone)
    if appointment is not None:
        messages.record_texts_stopped(appointment=appointment, now=timezone.now())


def handle_reply(*, from_number: str, body: str) -> str | None:
    """Answer one inbound text; an unknown number learns nothing about anyone."""
    from scheduling.booking import services

    word = reply_word(body)
    contact = {"contact_line": settings.SERVICE_CONTACT_LINE}
    help_context = {**contact, "resources_url": resources_url()}
    if word in waitlist_replies.ACCEPT_WORDS:  # Y: take the place a waitlist offer holds
        return waitlist_replies.answer_accept(phone=from_number) or messages.render_sms(
            "reply_help", help_context
        )
    if word in support.AGREE_WORDS:
        agreed = support.agree(phone=from_number)
        if agreed is not None:
            return agreed
    if word not in CONFIRM_WORDS | CANCEL_WORDS:
        return messages.render_sms("reply_help", help_context)
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
    context = messages.message_context(appointment, sealed=False)
    if name == "reply_cancelled" and appointment.series is not None:
        # X cancels the next visit of a series only: say so, with the series' own link.
        name = "reply_cancelled_series"
        context["manage_url"] = series_manage_url(appointment.series)
    return messages.render_sms(name, context)
