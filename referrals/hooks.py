"""How referrals follow appointments and patients (called by scheduling through
APPOINTMENT_OBSERVERS).

The hooks run inside the scheduling services' transaction, so the referral moves with the
appointment (or is erased with the patient) or not at all.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Q

from common.errors import DomainError
from common.events import Actor
from common.phones import phone_hash, phone_key
from common.tokens import hash_token
from notifications.retention import forget_recipient
from referrals import messages
from referrals.models import Referral, ReferralEvent, ReferralOffer, ReferralStatus, Urgency
from referrals.services import bookable_offers

S = ReferralStatus

if TYPE_CHECKING:
    from scheduling.models import Appointment, AppointmentEvent, Patient, Provider, Service


def _locked_by_token(token: str) -> Referral | None:
    if not isinstance(token, str) or not token or len(token) > 200:
        return None
    return (
        Referral.objects.select_for_update(of=("self",))
        .select_related("provider", "appointment", "created_by")
        .filter(token_hash=hash_token(token))
        .first()
    )


def check_booking(*, referral_token: str, provider: Provider, service: Service, phone: str) -> None:
    """Refuse a booking through a referral link that is unknown, closed or for someone else."""
    check_referred_booking(
        referral=_locked_by_token(referral_token), provider=provider, service=service, phone=phone
    )


def referral_priority(*, referral_token: str) -> bool:
    """An urgent referral's patient goes first on a waitlist."""
    if not isinstance(referral_token, str) or not referral_token or len(referral_token) > 200:
        return False
    return Referral.objects.filter(
        token_hash=hash_token(referral_token), urgency=Urgency.URGENT
    ).exists()


def appointment_changed(
    *, appointment: Appointment, event: AppointmentEvent, referral_token: str | None = None
) -> None:
    """Tie a referred booking to its referral and keep the referral in step afterwards."""
    if event.kind == "booked" and referral_token:
        referral = _locked_by_token(referral_token)
        if referral is None:
            return
        check_referred_booking(
            referral=referral,
            provider=appointment.provider,
            service=appointment.service,
            phone=appointment.patient.phone,
        )
        follow_appointment(referral=referral, appointment=appointment, event=event, booked=True)
        return
    if event.kind == "booked":
        return  # a booking without a referral token: no referral can point at it yet
    referral = (
        Referral.objects.select_for_update(of=("self",))
        .select_related("provider", "appointment", "created_by")
        .filter(appointment=appointment)
        .first()
    )
    if referral is not None:
        follow_appointment(referral=referral, appointment=appointment, event=event, booked=False)


def check_referred_booking(
    *, referral: Referral | None, provider: Provider, service: Service, phone: str
) -> None:
    """Refuse a booking the referral link does not allow."""
    if referral is None or referral.is_closed:
        raise DomainError("invalid_referral_token", "This scheduling link is not valid any more.")
    if phone_key(phone) != phone_key(referral.patient_phone):
        # The link proves possession of the number it was sent to, and of no other; booking
        # for another number would tie the referral to whoever holds that one.
        raise DomainError(
            "link_for_another_phone",
            "This link books for the phone number it was sent to. Use that number.",
            fields={"patient": {"phone": ["Use the phone number this link was sent to."]}},
        )
    if referral.status == S.SCHEDULED:
        raise DomainError(
            "referral_already_scheduled",
            "An appointment is already booked from this link; reschedule it instead.",
            status=409,
        )
    if not referral.is_bookable:
        raise DomainError("invalid_referral_token", "This scheduling link is not open for booking.")
    for offer in bookable_offers(referral):
        if offer.provider_id == provider.pk:
            if offer.service_id != service.pk:
                raise DomainError(
                    "service_not_offered",
                    "This link books a different service with this provider.",
                    fields={"service": service.slug},
                )
            return
    raise DomainError(
        "provider_not_offered",
        "This provider is not one of the choices of this scheduling link.",
        fields={"provider": provider.slug},
    )


def follow_appointment(
    *, referral: Referral, appointment: Appointment, event: AppointmentEvent, booked: bool
) -> None:
    """Keep the referral in step with its appointment's lifecycle."""
    kind = event.kind
    data = {"appointment": str(appointment.pk)}
    actor = event.actor or Actor.SYSTEM
    if booked:
        # The booking passed check_referred_booking with the referral's phone: the person
        # holds that number, so the referral may join their record now.
        referral.patient = appointment.patient
        referral.appointment = appointment
        referral.provider = appointment.provider
        referral.transition_to(S.SCHEDULED, kind="scheduled", actor=actor, data=data)
        messages.tell_referrer(
            referral=referral, what="scheduled", key=f"scheduled:{appointment.pk}"
        )
        return
    if referral.appointment_id != appointment.pk:
        return
    # An appointment change must never fail because the referral moved on (e.g. cancelled).
    if (
        kind == "cancelled"
        and referral.can_transition_to(S.OFFERED)
        and referral.status == S.SCHEDULED
    ):
        referral.appointment = None
        referral.transition_to(S.OFFERED, kind="appointment_cancelled", actor=actor, data=data)
    elif kind == "attended" and referral.status in (S.SCHEDULED, S.NO_SHOW):
        referral.transition_to(S.COMPLETED, kind="completed", actor=actor, data=data)
        messages.tell_referrer(
            referral=referral, what="completed", key=f"completed:{appointment.pk}"
        )
    elif kind == "no_show" and referral.status in (S.SCHEDULED, S.COMPLETED):
        referral.transition_to(S.NO_SHOW, kind="no_show", actor=actor, data=data)
    elif (
        kind in ("rescheduled", "confirmed", "patient_confirmed") and referral.status == S.SCHEDULED
    ):
        data["start"] = appointment.start.isoformat()
        referral.transition_to(S.SCHEDULED, kind=f"appointment_{kind}", actor=actor, data=data)


def patient_erased(*, patient: Patient, phone: str) -> None:
    """Anonymize every referral of the erased person (joined to them, or sent to their
    number): the details the coordinator typed, the reason and notes, and their messages.
    The workflow's timeline stays, without its words."""
    referrals = Referral.objects.filter(
        Q(patient=patient) | Q(patient_phone_hash=phone_hash(phone))
    )
    pks = list(referrals.values_list("pk", flat=True))
    ids = [str(pk) for pk in pks]
    emails = {e for e in referrals.values_list("patient_email", flat=True) if e}
    for email in emails:
        forget_recipient(phone="", email=email, subject_refs=[])
    forget_recipient(phone="", email="", subject_refs=[f"referral:{pk}" for pk in ids])
    ReferralEvent.objects.filter(referral__in=pks).update(note="", data={})
    ReferralOffer.objects.filter(referral__in=pks).update(decline_reason="")
    erased = {
        "patient_name": "Erased patient",
        "patient_phone": "",
        "patient_phone_hash": "",  # update() does not run the hash field's pre_save
        "patient_email": "",
        "reason": "",
        "notes": "",
        "patient_sms_consent": False,
    }
    referrals.update(**erased)
    # The change history keeps the referral as it was at each step: those copies go too.
    Referral.history.model.objects.filter(id__in=pks).update(**erased)  # type: ignore[attr-defined]
