"""The send-time check (settings.NOTIFICATION_SEND_CHECK): the patient's rules as they are
now, not as they were when a message was recorded.

- A text to a support person goes only while their consent stands (agreed, not withdrawn,
  not stopped, not past its end date); an invitation only while it is still open.
- A patient who turned texts off gets no text that was recorded before.
- A reminder, support reminder or check-in that reaches the worker inside the quiet hours
  (a queue backed up, a retry, hours changed since) waits for their end when the visit is
  still ahead then; a reminder that would come after its visit is dropped.
"""

from __future__ import annotations

from datetime import datetime

from notifications.holds import Hold
from notifications.models import Channel, Notification
from scheduling.circle.contact import SafeContact, safe_contact
from scheduling.circle.models import Disclosure, SupportStatus
from scheduling.circle.support import INVITE_TEMPLATE, REMINDER_TEMPLATE

SUPPORT_TEMPLATES = frozenset({INVITE_TEMPLATE, REMINDER_TEMPLATE})
# Texts that are due at a time we chose, not answers to something the patient just did.
TIMED_TEMPLATES = frozenset({"reminder", "checkin", REMINDER_TEMPLATE})


def _appointment(subject_ref: str):  # type: ignore[no-untyped-def]
    from scheduling.models import Appointment

    kind, _, object_id = subject_ref.partition(":")
    if kind != "appointment":
        return None
    try:
        return (
            Appointment.objects.select_related("patient__contact_preference")
            .filter(pk=object_id)
            .first()
        )
    except (ValueError, TypeError):
        return None


def _quiet(
    contact: SafeContact, notification: Notification, now: datetime, start: datetime | None
) -> Hold | None:
    window = contact.quiet_window(now)
    if window is None or notification.template not in TIMED_TEMPLATES:
        return None
    if notification.template != "checkin" and start is not None and window[1] >= start:
        return Hold("quiet hours last until the visit")
    return Hold("quiet hours", until=window[1])


def _support(notification: Notification, now: datetime) -> Hold | None:
    disclosure = (
        Disclosure.objects.select_related("support_person__patient")
        .filter(message_key=notification.dedupe_key)
        .first()
    )
    if disclosure is None:
        return Hold("no consent on record for this text")
    person = disclosure.support_person
    if notification.template == INVITE_TEMPLATE:
        if person.status != SupportStatus.INVITED or not person.is_current(now):
            return Hold("the invitation is no longer open")
        return None
    if not person.may_receive(now):
        return Hold("the support person's consent has ended")
    appointment = _appointment(notification.subject_ref)
    if appointment is None or not appointment.is_active or appointment.start <= now:
        return Hold("the visit is no longer ahead")
    return _quiet(safe_contact(person.patient), notification, now, appointment.start)


def check_send(notification: Notification, now: datetime) -> Hold | None:
    """None to send the row now, else why (and until when) it is held."""
    if notification.channel != Channel.SMS:
        return None
    if notification.template in SUPPORT_TEMPLATES:
        return _support(notification, now)
    kind = notification.subject_ref.partition(":")[0]
    patient, start = None, None
    if kind == "appointment":
        appointment = _appointment(notification.subject_ref)
        if appointment is not None:
            patient, start = appointment.patient, appointment.start
    else:
        # A referral link, a waitlist offer: the rules of the patient whose number it is.
        from scheduling.models import Patient

        patient = Patient.objects.filter(phone_hash=notification.recipient_hash).first()
    if patient is None:
        return None
    contact = safe_contact(patient)
    if not contact.may_text:
        return Hold("the patient asked for email only")
    return _quiet(contact, notification, now, start)
