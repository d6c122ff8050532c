"""Support persons: the patient names them, they agree by text, they get reminders.

Consent (42 CFR 2.31, as amended in 2024): the patient signs by their own action on their
private link (`signed_at`, `signed_source`); the form says who receives, what (reminders
of visits and groups, date and time only), for what purpose and until when (at most one
year). The patient may withdraw it at any time, the person may end it with STOP; either
takes effect at once, because every text to a support person is checked again when it
is about to go (scheduling.circle.sending). Every text to them is a Disclosure row.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation

from common.errors import DomainError
from common.formatting import format_day, format_when
from common.phones import is_textable, phone_hash, phone_key, to_e164
from notifications import recording as outbox
from notifications.models import Channel, Notification, NotificationStatus
from notifications.text import render_sms
from scheduling.circle.contact import safe_contact, sms_name
from scheduling.circle.models import (
    MAX_SUPPORT_PERSONS,
    ContactPreference,
    Disclosure,
    SupportPerson,
    SupportStatus,
)

if TYPE_CHECKING:
    from scheduling.models import Appointment, Patient

TEMPLATES = "scheduling/circle/messages"
MAX_DAYS = 365
# The word a support person replies to agree: not one of the carriers' keywords (YES is
# START for Twilio) nor a word the patient's own replies use (C, X, 1, 2).
AGREE_WORDS = frozenset({"AGREE"})
REMINDER_TEMPLATE = "support_reminder"
INVITE_TEMPLATE = "support_invite"
WHAT_INVITE = "Request to agree: your first name, that you have appointments"
WHAT_REMINDER = "Reminder: the date and time of an appointment"
WHAT_AGREED = "Reply to their AGREE: your first name, until when"


def _first_name(patient: Patient) -> str:
    name = safe_contact(patient).patient_name(patient.name)
    return sms_name(name.split()[0] if name.split() else name)


def _until_text(person: SupportPerson) -> str:
    return format_day(person.until.astimezone(safe_contact(person.patient).zone).date())


def _invalid(field: str, detail: str) -> DomainError:
    return DomainError("invalid", detail, fields={field: [detail]})


@transaction.atomic
def add_support_person(
    *,
    patient: Patient,
    name: str,
    phone: str,
    relationship: str,
    until: datetime,
    source: str,
    now: datetime | None = None,
) -> SupportPerson:
    """Record the patient's consent for one person and ask that person to agree by text."""
    from scheduling.models import Patient

    now = now or timezone.now()
    name, relationship = (name or "").strip(), (relationship or "").strip()
    if not name or len(name) > 80:
        raise _invalid("name", "Give a name of at most 80 characters.")
    if not relationship or len(relationship) > 40:
        raise _invalid("relationship", "Say who they are to you, in at most 40 characters.")
    e164 = to_e164(phone)
    if e164 is None or not is_textable(e164):
        raise _invalid("phone", "Give a mobile number we can text.")
    if until <= now or until > now + timedelta(days=MAX_DAYS):
        raise _invalid("until", "Choose an end date within one year.")
    Patient.objects.select_for_update().filter(pk=patient.pk).first()  # one grant at a time
    if phone_hash(e164) == patient.phone_hash:
        raise _invalid("phone", "This is your own number.")
    current = [p for p in patient.support_persons.all() if p.is_current(now)]
    if len(current) >= MAX_SUPPORT_PERSONS:
        raise DomainError(
            "too_many_support_persons",
            f"You can name up to {MAX_SUPPORT_PERSONS} people. Remove one first.",
            status=409,
        )
    if any(p.phone_hash == phone_hash(e164) for p in current):
        raise _invalid("phone", "You have already named this number.")
    patient.contact_preference, _ = ContactPreference.objects.update_or_create(
        patient=patient, defaults={"has_support_persons": True}
    )
    person = SupportPerson.objects.create(
        patient=patient,
        name=name,
        phone=e164,
        relationship=relationship,
        until=until,
        signed_at=now,
        signed_source=source[:40],
    )
    with translation.override("en"):
        context = {"patient_name": _first_name(patient), "until": _until_text(person)}
        invite = render_sms(f"{TEMPLATES}/support_invite.sms.txt", context)
    key = f"support-invite:{person.pk}"
    _record(
        person,
        [
            outbox.Outgoing(
                channel=Channel.SMS,
                recipient=e164,
                template=INVITE_TEMPLATE,
                body=invite,
                dedupe_key=key,
                send_after=safe_contact(patient).text_at(now),
                subject_ref=f"patient:{patient.pk}",
            )
        ],
        WHAT_INVITE,
        now,
    )
    return person


def _record(person: SupportPerson, batch: list[outbox.Outgoing], what: str, now: datetime) -> None:
    """Record the texts and, for each, its disclosure row (a replay records neither)."""
    Disclosure.objects.bulk_create(
        [
            Disclosure(
                patient_id=person.patient_id,
                support_person=person,
                message_key=m.dedupe_key,
                what=what,
                recorded_at=now,
            )
            for m in batch
        ],
        ignore_conflicts=True,
    )
    outbox.enqueue_many(batch)


def _withhold(people: Iterable[SupportPerson], reason: str) -> int:
    keys = Disclosure.objects.filter(support_person__in=list(people)).values("message_key")
    return Notification.objects.filter(
        dedupe_key__in=keys, status=NotificationStatus.PENDING
    ).update(status=NotificationStatus.SUPPRESSED, last_error=reason, updated_at=timezone.now())


@transaction.atomic
def revoke_support_person(
    *, person: SupportPerson, source: str, now: datetime | None = None
) -> SupportPerson:
    """The patient withdraws consent: nothing more goes to this person, from now."""
    now = now or timezone.now()
    person = SupportPerson.objects.select_for_update().get(pk=person.pk)
    if person.status in (SupportStatus.INVITED, SupportStatus.ACTIVE):
        person.status = SupportStatus.REVOKED
        person.ended_at, person.ended_source = now, source[:40]
        person.save(update_fields=["status", "ended_at", "ended_source"])
    _withhold([person], "consent withdrawn by the patient")
    return person


def support_stopped(*, phone: str) -> None:
    """An SMS_OPT_OUT_OBSERVERS hook: a support person's STOP ends what they agreed to."""
    now = timezone.now()
    people = list(
        SupportPerson.objects.filter(
            phone_hash=phone_hash(phone_key(phone)),
            status__in=(SupportStatus.INVITED, SupportStatus.ACTIVE),
        )
    )
    for person in people:
        person.status = SupportStatus.STOPPED
        person.ended_at, person.ended_source = now, "their STOP"
        person.save(update_fields=["status", "ended_at", "ended_source"])
    _withhold(people, "the support person replied STOP")


@transaction.atomic
def agree(*, phone: str, now: datetime | None = None) -> str | None:
    """The person's AGREE: every current invitation to this number becomes active, and the
    reminders of the patients' coming visits are recorded. The answer, or None when no
    invitation waits (the reply handler then answers as for any unknown word)."""
    from scheduling.models import AppointmentStatus

    now = now or timezone.now()
    people = [
        p
        for p in SupportPerson.objects.select_for_update()
        .select_related("patient")
        .filter(phone_hash=phone_hash(phone_key(phone)), status=SupportStatus.INVITED)
        if p.is_current(now)
    ]
    if not people:
        return None
    names = []
    for person in people:
        person.status, person.agreed_at = SupportStatus.ACTIVE, now
        person.save(update_fields=["status", "agreed_at"])
        Disclosure.objects.create(
            patient_id=person.patient_id,
            support_person=person,
            message_key=f"support-agreed:{person.pk}",
            what=WHAT_AGREED,
            recorded_at=now,
        )
        names.append(_first_name(person.patient))
        upcoming = person.patient.appointments.filter(
            status=AppointmentStatus.CONFIRMED, start__gt=now
        ).select_related("patient")
        batch: list[outbox.Outgoing] = []
        for appointment in upcoming:
            record_support_reminders(appointment=appointment, now=now, batch=batch, only=person)
        outbox.enqueue_many(batch)
    with translation.override("en"):
        context = {"patient_name": " and ".join(names), "until": _until_text(people[0])}
        return render_sms(f"{TEMPLATES}/support_agreed.sms.txt", context)


def support_key(person: SupportPerson, appointment: Appointment, revision: int) -> str:
    start = appointment.start.isoformat()
    return f"support-reminder:{person.pk}:{appointment.id}:{start}:r{revision}"


def record_support_reminders(
    *,
    appointment: Appointment,
    now: datetime,
    batch: list[outbox.Outgoing],
    only: SupportPerson | None = None,
) -> list[str]:
    """One reminder per visit to each person who agreed: the least that helps (the first
    reminder offset still ahead, moved out of the patient's quiet hours). Adds to `batch`
    and records the disclosures; returns the keys."""
    patient = appointment.patient
    contact = safe_contact(patient)
    if only is None and not contact.has_support_persons:
        return []
    people = [only] if only is not None else list(patient.support_persons.all())
    people = [p for p in people if p.may_receive(now)]
    if not people:
        return []
    send_after = None
    for hours in sorted(set(settings.REMINDER_OFFSETS_HOURS), reverse=True):
        send_after = contact.reminder_at(appointment.start - timedelta(hours=hours), now=now)
        if send_after is not None:
            break
    if send_after is None:
        return []
    # A support person's texts are English (their language is not known), whatever
    # language the request or task that records them has active.
    with translation.override("en"):
        context = {
            "patient_name": _first_name(patient),
            "when": format_when(appointment.start, contact.zone),
        }
        body = render_sms(f"{TEMPLATES}/support_reminder.sms.txt", context)
    keys: list[str] = []
    disclosed: list[Disclosure] = []
    for person in people:
        if person.until <= send_after:
            continue
        key = support_key(person, appointment, contact.revision)
        message = outbox.Outgoing(
            channel=Channel.SMS,
            recipient=person.phone,
            template=REMINDER_TEMPLATE,
            body=body,
            dedupe_key=key,
            send_after=send_after,
            subject_ref=f"appointment:{appointment.id}",
        )
        batch.append(message)
        keys.append(key)
        disclosed.append(
            Disclosure(
                patient_id=patient.pk,
                support_person=person,
                message_key=key,
                what=WHAT_REMINDER,
                recorded_at=now,
            )
        )
    Disclosure.objects.bulk_create(disclosed, ignore_conflicts=True)
    return keys


def disclosures(patient: Patient) -> list[dict[str, object]]:
    """The patient's list: each message to a support person, to whom, and whether it went."""
    rows = list(Disclosure.objects.filter(patient=patient).select_related("support_person")[:200])
    statuses = dict(
        Notification.objects.filter(dedupe_key__in=[r.message_key for r in rows]).values_list(
            "dedupe_key", "status"
        )
    )
    zone = safe_contact(patient).zone
    out = []
    for row in rows:
        status = statuses.get(row.message_key)
        if status is None:
            shown = "Sent as an answer to their text"
        elif status in (NotificationStatus.SENT, NotificationStatus.DELIVERED):
            shown = "Sent"
        elif status in (NotificationStatus.PENDING, NotificationStatus.SENDING):
            shown = "Waiting to be sent"
        elif status == NotificationStatus.SUPPRESSED:
            shown = "Not sent"
        else:
            shown = "Could not be delivered"
        out.append(
            {
                "id": row.pk,
                "to": row.support_person.name,
                "support_person": str(row.support_person_id),
                "what": row.what,
                "recorded_at": row.recorded_at,
                "when": format_when(row.recorded_at, zone),
                "status": shown,
            }
        )
    return out
