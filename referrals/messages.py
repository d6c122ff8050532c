"""What a referral tells whom: the patient's link, the referrer's loop, the coordinator's alert.

Messages are written to the outbox (notifications.services.enqueue) inside the caller's
transaction. SMS bodies and email subjects stay discreet: the patient by initials, the
provider by first name and initial, never the reason, notes, specialty or kind of care.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.conf import settings
from django.template import Context
from django.template.loader import get_template

from common.timezones import get_zone
from notifications.models import Channel
from notifications.services import enqueue
from referrals.models import Coordinator, Referral
from scheduling.models import Provider


def render(name: str, context: dict[str, Any]) -> str:
    """Render a plain-text template without HTML escaping."""
    template = get_template(f"referrals/messages/{name}")
    return template.template.render(Context(context, autoescape=False)).strip()  # type: ignore[attr-defined]


def format_when(at: datetime, zone_name: str) -> str:
    """E.g. 'Tue Mar 10, 9:00 AM CDT' in the given zone."""
    local = at.astimezone(get_zone(zone_name))
    hour = local.strftime("%I").lstrip("0")
    return f"{local:%a %b} {local.day}, {hour}:{local:%M %p} {local.tzname()}"


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
    from referrals.services import referral_url

    patient = referral.patient
    context = {
        "providers": _names(providers),
        "url": referral_url(referral),
        "first_name": patient.name.split()[0] if patient.name.split() else "",
        "nudge": nudge,
    }
    if referral.patient_sms_consent and patient.sms_consent and patient.phone:
        enqueue(
            channel=Channel.SMS,
            recipient=patient.phone,
            template="referral_nudge" if nudge else "referral_link",
            body=render("patient_nudge_sms.txt" if nudge else "patient_link_sms.txt", context),
            dedupe_key=f"referral:{referral.id}:{key}:patient:sms",
            subject_ref=_subject_ref(referral),
        )
    if patient.email:
        enqueue(
            channel=Channel.EMAIL,
            recipient=patient.email,
            template="referral_nudge" if nudge else "referral_link",
            subject=render("patient_link_subject.txt", context),
            body=render("patient_link_email.txt", context),
            dedupe_key=f"referral:{referral.id}:{key}:patient:email",
            subject_ref=_subject_ref(referral),
        )


def tell_referrer(*, referral: Referral, what: str, key: str) -> None:
    """Close the loop with the referrer: scheduled, completed, declined (no match), escalated."""
    appointment = referral.appointment
    provider = appointment.provider if appointment is not None else referral.provider
    context = {
        "what": what,
        "initials": referral.patient.initials,
        "provider": provider.display_name if provider is not None else "",
        "when": format_when(appointment.start, referral.patient.timezone)
        if appointment is not None
        else "",
        "deadline": format_when(referral.deadline_at, referral.patient.timezone),
        "referrer_name": referral.referrer_name,
        "ref": ref(referral),
    }
    if referral.referrer_email:
        enqueue(
            channel=Channel.EMAIL,
            recipient=referral.referrer_email,
            template=f"referral_{what}",
            subject=render("referrer_subject.txt", context),
            body=render("referrer_email.txt", context),
            dedupe_key=f"referral:{referral.id}:{key}:referrer:email",
            subject_ref=_subject_ref(referral),
        )
    if referral.referrer_phone and referral.referrer_sms_consent:
        enqueue(
            channel=Channel.SMS,
            recipient=referral.referrer_phone,
            template=f"referral_{what}",
            body=render("referrer_sms.txt", context),
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
        "initials": referral.patient.initials,
        "ref": ref(referral),
        "urgency": referral.urgency,
        "deadline": format_when(referral.deadline_at, referral.patient.timezone),
        "from_status": last.from_status if last is not None else "",
        "referrer_name": referral.referrer_name,
        "referrer_organization": referral.referrer_organization,
        "board_url": f"{settings.PUBLIC_BASE_URL}/referrals/board/",
        "api_url": f"{settings.PUBLIC_BASE_URL}/api/referrals/{referral.id}/",
    }
    subject = render("coordinator_escalated_subject.txt", context)
    body = render("coordinator_escalated_email.txt", context)
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
