"""What a referral tells whom: the patient's link, the referrer's loop, the coordinator's alert.

Messages are written to the outbox (notifications.recording.enqueue) inside the caller's
transaction. SMS bodies and email subjects stay discreet: the patient by initials, the
provider by first name and initial, never the reason, notes, specialty or kind of care.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.conf import settings
from django.utils import timezone

from common.formatting import format_when
from notifications.models import Channel
from notifications.recording import enqueue
from notifications.text import render_line, render_sms, render_text
from referrals.links import sealed_referral_url
from referrals.models import Coordinator, Referral
from scheduling.circle.contact import safe_contact
from scheduling.models import Provider


def ref(referral: Referral) -> str:
    return str(referral.id)[:8]


def _names(providers: Sequence[Provider]) -> str:
    names = [p.display_name for p in providers]
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " or " + names[-1]


def _subject_ref(referral: Referral) -> str:
    return f"referral:{referral.id}"


def send_patient_link(
    *, referral: Referral, providers: Sequence[Provider], key: str, nudge: bool = False
) -> None:
    """The discreet self-scheduling link: SMS with consent, email when we have an address."""
    # A person who already booked with us has safe-contact rules (scheduling.circle).
    person = referral.patient
    contact = safe_contact(person) if person is not None else None
    context = {
        "providers": _names(providers)
        if contact is None
        else contact.provider_name(_names(providers)),
        "url": sealed_referral_url(referral),
        "first_name": referral.patient_first_name,
        "nudge": nudge,
    }
    # The referral's own details: the link goes where the coordinator said, never to what a
    # stored patient with the same number once gave. Once the person has booked through the
    # link (proving the number is theirs), their own choice about texts counts too; a STOP
    # is honoured by enqueue either way.
    texts_ok = person is None or (person.sms_consent and contact is not None and contact.may_text)
    if referral.patient_sms_consent and texts_ok and referral.patient_phone:
        now = timezone.now()
        enqueue(
            send_after=contact.text_at(now) if contact is not None else now,
            channel=Channel.SMS,
            recipient=referral.patient_phone,
            template="referral_nudge" if nudge else "referral_link",
            body=render_sms(
                f"referrals/messages/patient_{'nudge' if nudge else 'link'}_sms.txt", context
            ),
            dedupe_key=f"referral:{referral.id}:{key}:patient:sms",
            subject_ref=_subject_ref(referral),
        )
    if referral.patient_email:
        enqueue(
            channel=Channel.EMAIL,
            recipient=referral.patient_email,
            template="referral_nudge" if nudge else "referral_link",
            subject=render_line("referrals/messages/patient_link_subject.txt", context),
            body=render_text("referrals/messages/patient_link_email.txt", context),
            dedupe_key=f"referral:{referral.id}:{key}:patient:email",
            subject_ref=_subject_ref(referral),
        )


def tell_referrer(*, referral: Referral, what: str, key: str) -> None:
    """Close the loop with the referrer: scheduled, completed, declined (no match), escalated."""
    appointment = referral.appointment
    provider = appointment.provider if appointment is not None else referral.provider
    context = {
        "what": what,
        "initials": referral.patient_initials,
        "provider": provider.display_name if provider is not None else "",
        "when": format_when(appointment.start, referral.patient_timezone)
        if appointment is not None
        else "",
        "deadline": format_when(referral.deadline_at, referral.patient_timezone),
        "referrer_name": referral.referrer_name,
        "ref": ref(referral),
    }
    if referral.referrer_email:
        enqueue(
            channel=Channel.EMAIL,
            recipient=referral.referrer_email,
            template=f"referral_{what}",
            subject=render_line("referrals/messages/referrer_subject.txt", context),
            body=render_text("referrals/messages/referrer_email.txt", context),
            dedupe_key=f"referral:{referral.id}:{key}:referrer:email",
            subject_ref=_subject_ref(referral),
        )
    if referral.referrer_phone and referral.referrer_sms_consent:
        enqueue(
            channel=Channel.SMS,
            recipient=referral.referrer_phone,
            template=f"referral_{what}",
            body=render_sms("referrals/messages/referrer_sms.txt", context),
            dedupe_key=f"referral:{referral.id}:{key}:referrer:sms",
            subject_ref=_subject_ref(referral),
        )


def tell_coordinator_escalated(*, referral: Referral) -> None:
    """Alert the coordinator who created the referral, else their organization's (once)."""
    user = referral.created_by
    email = getattr(user, "email", "") if user is not None else ""
    recipients = [email] if email else []
    if not recipients and referral.organization_id is not None:
        recipients = sorted(
            set(
                Coordinator.objects.filter(organization_id=referral.organization_id)
                .exclude(user__email="")
                .values_list("user__email", flat=True)
            )
        )
    if not recipients:
        return
    last = referral.events.order_by("-at", "-id").first()
    context = {
        "initials": referral.patient_initials,
        "ref": ref(referral),
        "urgency": referral.urgency,
        "deadline": format_when(referral.deadline_at, referral.patient_timezone),
        "from_status": last.from_status if last is not None else "",
        "referrer_name": referral.referrer_name,
        "referrer_organization": referral.referrer_organization,
        "board_url": f"{settings.PUBLIC_BASE_URL}/referrals/board/",
        "api_url": f"{settings.PUBLIC_BASE_URL}/api/referrals/{referral.id}/",
    }
    subject = render_line("referrals/messages/coordinator_escalated_subject.txt", context)
    body = render_text("referrals/messages/coordinator_escalated_email.txt", context)
    for address in recipients:
        enqueue(
            channel=Channel.EMAIL,
            recipient=address,
            template="referral_escalated_coordinator",
            subject=subject,
            body=body,
            dedupe_key=f"referral:{referral.id}:escalated:coordinator:{address}",
            subject_ref=_subject_ref(referral),
        )
