"""The referral workflow: create, offer, accept, decline, cancel, follow bookings.

Every status change goes through `Referral.transition_to`, which consults the transitions
table, raises InvalidTransition (409) on an illegal move and writes the ReferralEvent row.
Escalation and nudges are in referrals.escalation; the patient's link in referrals.links.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from common.errors import DomainError, InvalidTransition
from common.events import Actor
from common.tokens import hash_token, new_salt
from referrals import messages
from referrals.links import referral_token
from referrals.models import (
    OfferStatus,
    Referral,
    ReferralEvent,
    ReferralOffer,
    ReferralStatus,
    Urgency,
)
from referrals.webhooks import publish_status_changed
from scheduling.booking.patients import PatientDetails, validate_details
from scheduling.models import Provider, Service, Specialty

S = ReferralStatus
# How many of the best matches a self-scheduling link offers when no provider is named.
SELF_SCHEDULING_CHOICES = 3


def offered_providers(referral: Referral) -> list[Provider]:
    """The providers the patient may book from the link now (see bookable_offers)."""
    if not referral.is_bookable:
        return []
    return [offer.provider for offer in bookable_offers(referral)]


def _lock(referral: Referral) -> Referral:
    return (
        Referral.objects.select_for_update(of=("self",))
        .select_related("patient", "specialty", "provider", "appointment", "created_by")
        .get(pk=referral.pk)
    )


def _actor_of(user: Any) -> str:
    if user is not None and getattr(user, "is_authenticated", False):
        if getattr(user, "is_staff", False) or hasattr(user, "coordinator"):
            return Actor.STAFF
        return Actor.PROVIDER
    return Actor.SYSTEM


# --- create ---------------------------------------------------------------------------------


@transaction.atomic
def create_referral(
    *,
    created_by: Any,
    patient: dict[str, Any],
    referrer: dict[str, Any],
    reason: str,
    notes: str = "",
    specialty: str,
    service: str = "",
    urgency: str = Urgency.ROUTINE,
    preferences: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> Referral:
    """Record a referral (status new) with its deadline, and the person it is for as entered."""
    now = now or timezone.now()
    preferences = preferences or {}
    specialty_row = Specialty.objects.filter(slug=specialty).first()
    if specialty_row is None:
        raise DomainError(
            "unknown_specialty", f"No specialty {specialty!r}.", fields={"specialty": specialty}
        )
    if service and not Service.objects.filter(slug=service, is_active=True).exists():
        raise DomainError(
            "unknown_service", f"No service {service!r}.", fields={"service": service}
        )
    preferred = None
    if preferences.get("provider"):
        preferred = Provider.objects.filter(slug=preferences["provider"]).first()
        if preferred is None:
            raise DomainError(
                "unknown_provider",
                f"No provider {preferences['provider']!r}.",
                fields={"preferences": {"provider": preferences["provider"]}},
            )
    person = validate_details(
        PatientDetails(
            name=patient["name"],
            phone=patient["phone"],
            timezone=patient["timezone"],
            state=patient["state"],
            email=patient.get("email", ""),
        )
    )
    coordinator = getattr(created_by, "coordinator", None)
    hours = settings.REFERRAL_DEADLINE_HOURS[urgency]
    referral = Referral(
        organization=coordinator.organization if coordinator is not None else None,
        created_by=created_by if getattr(created_by, "is_authenticated", False) else None,
        # The person as the coordinator describes them; no Patient is read, changed or
        # created until they book through the link (referrals.hooks.follow_appointment).
        patient_name=person.name,
        patient_phone=person.phone,
        patient_email=person.email,
        patient_timezone=person.timezone,
        patient_state=person.state,
        patient_sms_consent=bool(patient.get("sms_consent")),
        referrer_name=referrer["name"],
        referrer_organization=referrer.get("organization", ""),
        referrer_phone=referrer.get("phone", ""),
        referrer_email=referrer.get("email", ""),
        referrer_sms_consent=bool(referrer.get("sms_consent")),
        reason=reason,
        notes=notes,
        specialty=specialty_row,
        service_slug=service,
        urgency=urgency,
        language=preferences.get("language", ""),
        insurance=preferences.get("insurance", ""),
        modality=preferences.get("modality", ""),
        preferred_provider=preferred,
        token_salt=new_salt(),
        created_at=now,
        deadline_at=now + timedelta(hours=hours),
        nudge_at=now + timedelta(hours=hours / 2),
    )
    referral.token_hash = hash_token(referral_token(referral))
    referral.save()
    created = ReferralEvent.objects.create(
        referral=referral,
        at=now,
        actor=_actor_of(created_by),
        actor_user=referral.created_by,
        kind="created",
        from_status="",
        to_status=S.NEW,
        data={"urgency": urgency, "deadline_at": referral.deadline_at.isoformat()},
    )
    publish_status_changed(referral=referral, event=created)
    return referral


# --- offering -------------------------------------------------------------------------------


def _service_for(referral: Referral, provider: Provider) -> Service | None:
    services = provider.services.filter(is_active=True).order_by("position", "id")
    if referral.service_slug:
        services = services.filter(slug=referral.service_slug)
    return services.first()


def _offer(
    referral: Referral,
    choices: list[tuple[Provider, Service]],
    *,
    kind: str,
    actor: str,
    actor_user: Any,
    now: datetime,
) -> Referral:
    """Open offers to these providers, move to offered, send the patient the link."""
    for provider, service in choices:
        offer, created = ReferralOffer.objects.get_or_create(
            referral=referral,
            provider=provider,
            defaults={"service": service, "created_at": now},
        )
        if not created and not offer.is_live:
            offer.status = OfferStatus.OPEN
            offer.service = service
            offer.created_at = now
            offer.responded_at = None
            offer.decline_reason = ""
            offer.save()
    chosen = {p.pk for p, _ in choices}
    # An assignment replaces the earlier choices; declined offers stay as they are.
    ReferralOffer.objects.filter(
        referral=referral, status__in=(OfferStatus.OPEN, OfferStatus.ACCEPTED)
    ).exclude(provider_id__in=chosen).update(status=OfferStatus.WITHDRAWN, responded_at=now)
    if referral.nudged_at is None and referral.nudge_at <= now < referral.deadline_at:
        # A link sent late gets its reminder halfway through the time that is left.
        referral.nudge_at = now + (referral.deadline_at - now) / 2
    referral.provider = choices[0][0]
    event = referral.transition_to(
        S.OFFERED,
        kind=kind,
        actor=actor,
        actor_user=actor_user,
        data={"providers": [p.slug for p, _ in choices]},
        now=now,
    )
    bookable = [p for p, s in choices if not s.requires_approval]
    if bookable:
        messages.send_patient_link(referral=referral, providers=bookable, key=f"offer:{event.pk}")
    return referral


def _auto_choices(referral: Referral, now: datetime) -> list[tuple[Provider, Service]]:
    from referrals.selectors import find_matches

    matches, services = find_matches(referral, now=now)
    picked = [m for m in matches if m.next_available is not None][:SELF_SCHEDULING_CHOICES]
    providers = Provider.objects.in_bulk([m.provider_id for m in picked])
    return [(providers[m.provider_id], services[m.provider_id]) for m in picked]


@transaction.atomic
def assign_referral(
    *,
    referral: Referral,
    providers: list[Provider] | None = None,
    actor_user: Any = None,
    now: datetime | None = None,
) -> Referral:
    """Offer the referral to the named providers, else to its best matches; the patient
    gets a self-scheduling link for those that need no approval."""
    now = now or timezone.now()
    referral = _lock(referral)
    referral.check_transition(S.OFFERED)
    if referral.status == S.SCHEDULED:
        # scheduled -> offered is the appointment's cancellation, not a reassignment.
        raise InvalidTransition(
            "A scheduled referral cannot be reassigned; cancel its appointment first.",
            fields={"status": referral.status, "to": S.OFFERED},
        )
    if providers:
        from referrals.selectors import find_matches

        matches, services = find_matches(referral, now=now)
        eligible = {m.provider_id for m in matches}
        refused = [p.slug for p in providers if p.pk not in eligible]
        if refused:
            raise DomainError(
                "provider_not_eligible",
                "These providers do not match the referral (license, specialty, service, "
                "modality, insurance or acceptance of new patients), or already declined it.",
                fields={"providers": refused},
            )
        choices = [(p, services[p.pk]) for p in providers]
    else:
        choices = _auto_choices(referral, now)
        if not choices:
            raise DomainError(
                "no_match", "No provider matches this referral with open times.", status=409
            )
    return _offer(
        referral,
        choices,
        kind="assigned",
        actor=_actor_of(actor_user),
        actor_user=actor_user,
        now=now,
    )


def _live_offer(referral: Referral, provider: Provider) -> ReferralOffer:
    offer = (
        ReferralOffer.objects.select_for_update(of=("self",))
        .select_related("service")
        .filter(referral=referral, provider=provider)
        .first()
    )
    if offer is None or not offer.is_live:
        raise InvalidTransition(
            "This referral is not waiting for this provider's answer.",
            fields={"status": referral.status},
        )
    return offer


@transaction.atomic
def accept_referral(
    *, referral: Referral, provider: Provider, actor_user: Any = None, now: datetime | None = None
) -> Referral:
    """The provider agrees to see the patient; the patient may now book them."""
    now = now or timezone.now()
    referral = _lock(referral)
    referral.check_transition(S.ACCEPTED)
    offer = _live_offer(referral, provider)
    if offer.status == OfferStatus.ACCEPTED:
        raise InvalidTransition(
            "The referral is already accepted.",
            fields={"status": referral.status},
        )
    offer.status = OfferStatus.ACCEPTED
    offer.responded_at = now
    offer.save()
    referral.provider = provider
    event = referral.transition_to(
        S.ACCEPTED,
        kind="accepted",
        actor=_actor_of(actor_user),
        actor_user=actor_user,
        data={"provider": provider.slug},
        now=now,
    )
    if offer.service.requires_approval:
        # The link was held back until now (see _offer).
        messages.send_patient_link(
            referral=referral, providers=[provider], key=f"accept:{event.pk}"
        )
    return referral


@transaction.atomic
def decline_referral(
    *,
    referral: Referral,
    provider: Provider,
    reason: str,
    actor_user: Any = None,
    now: datetime | None = None,
) -> Referral:
    """The provider declines; the referral goes back to matching and the next match is
    offered, or the referrer hears that no one else matches."""
    now = now or timezone.now()
    referral = _lock(referral)
    referral.check_transition(S.DECLINED)
    offer = _live_offer(referral, provider)
    offer.status = OfferStatus.DECLINED
    offer.decline_reason = reason[:500]
    offer.responded_at = now
    offer.save()
    actor = _actor_of(actor_user)
    referral.transition_to(
        S.DECLINED,
        kind="declined",
        actor=actor,
        actor_user=actor_user,
        note=reason,
        data={"provider": provider.slug},
        now=now,
    )
    remaining = list(
        ReferralOffer.objects.filter(
            referral=referral, status__in=(OfferStatus.OPEN, OfferStatus.ACCEPTED)
        ).select_related("provider", "service")
    )
    if remaining:
        referral.provider = remaining[0].provider
        referral.transition_to(
            S.OFFERED,
            kind="still_offered",
            actor=Actor.SYSTEM,
            data={"providers": [o.provider.slug for o in remaining]},
            now=now,
        )
        return referral
    choices = _auto_choices(referral, now)[:1]
    if choices:
        return _offer(
            referral, choices, kind="reoffered", actor=Actor.SYSTEM, actor_user=None, now=now
        )
    referral.provider = None
    referral.save()
    messages.tell_referrer(referral=referral, what="declined", key=f"declined:{offer.pk}")
    return referral


@transaction.atomic
def cancel_referral(
    *, referral: Referral, reason: str = "", actor_user: Any = None, now: datetime | None = None
) -> Referral:
    """Close the referral; open offers are withdrawn (a booked appointment stays as it is)."""
    referral = _lock(referral)
    referral.transition_to(
        S.CANCELLED,
        kind="cancelled",
        actor=_actor_of(actor_user),
        actor_user=actor_user,
        note=reason,
        now=now,
    )
    ReferralOffer.objects.filter(
        referral=referral, status__in=(OfferStatus.OPEN, OfferStatus.ACCEPTED)
    ).update(status=OfferStatus.WITHDRAWN, responded_at=now or timezone.now())
    return referral


def bookable_offers(referral: Referral) -> list[ReferralOffer]:
    return [
        o
        for o in referral.offers.select_related("provider", "service").order_by("created_at", "id")
        if o.is_bookable
    ]
