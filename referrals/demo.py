"""Demo referrals from a demo organization, made through the referral services.

So the coordinator board and the provider portal's referral inbox have something to show:
one new, one offered to the demo provider, one booked through its link, one escalated.
Idempotent: each demo referral is known by its person's phone and the demo referrer's address,
and one that exists is left as it is. Messages the services record for them are deleted in
the seeding transaction, so the worker never sends them (demo bookings send nothing either).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from common.phones import phone_hash
from notifications.models import Notification
from referrals.escalation import escalate_overdue
from referrals.links import referral_token
from referrals.models import Coordinator, Organization, Referral, Urgency
from referrals.services import assign_referral, create_referral
from scheduling.availability import selectors as availability
from scheduling.booking.patients import PatientDetails
from scheduling.booking.services import book_appointment
from scheduling.demo.document import REGION_BY_STATE
from scheduling.demo.seed import PROVIDER_LOGIN_SLUG, SeedResult, seed_directory
from scheduling.models import Provider

ORGANIZATION = ("riverside-primary-care", "Riverside Primary Care")
COORDINATOR_LOGIN = ("coordinator", "bridgeway-coordinator")
REFERRER = {
    "name": "Dr. Maya Ortiz",
    "organization": ORGANIZATION[1],
    "email": "referrals@riverside-primary-care.example.org",
}


@dataclass(frozen=True)
class _Plan:
    name: str
    outcome: str  # new | offered | scheduled | escalated
    urgency: str
    reason: str


PLANS = (
    _Plan("Jordan Reyes", "new", Urgency.ROUTINE, "Follow-up care after a hospital visit."),
    _Plan("Avery Brooks", "offered", Urgency.URGENT, "Asked for help at a primary care visit."),
    _Plan("Casey Lin", "scheduled", Urgency.ROUTINE, "Wants ongoing visits closer to home."),
    _Plan("Morgan Ellis", "escalated", Urgency.URGENT, "Discharged; needs a visit this week."),
)


def demo_organization() -> Organization:
    organization, _ = Organization.objects.update_or_create(
        slug=ORGANIZATION[0], defaults={"name": ORGANIZATION[1]}
    )
    return organization


def _phone(area_code: str, n: int) -> str:
    # 555-0190.. in the fictional range, clear of the demo patients' 555-0100..0159.
    return f"+1{area_code}555019{n}"


def seed_referrals(*, provider: Provider, created_by: Any, now: datetime) -> int:
    """Create the demo referrals that do not exist yet (offered to `provider`); how many."""
    licensed = sorted(provider.licenses.values_list("state", flat=True))
    state = next(s for s in licensed if s in REGION_BY_STATE)  # a state with demo patients
    region = REGION_BY_STATE[state]
    specialty = sorted(provider.specialties.values_list("slug", flat=True))[0]
    created: list[Referral] = []
    escalate = False
    for n, plan in enumerate(PLANS):
        phone = _phone(region.area_code, n)
        if Referral.objects.filter(
            patient_phone_hash=phone_hash(phone), referrer_email=REFERRER["email"]
        ).exists():
            continue
        # The escalated one came in days ago and nobody acted on it before its deadline.
        at = now - timedelta(days=4) if plan.outcome == "escalated" else now
        referral = create_referral(
            created_by=created_by,
            patient={"name": plan.name, "phone": phone, "timezone": region.zone, "state": state},
            referrer=REFERRER,
            reason=plan.reason,
            specialty=specialty,
            urgency=plan.urgency,
            now=at,
        )
        created.append(referral)
        escalate = escalate or plan.outcome == "escalated"
        if plan.outcome in ("offered", "scheduled"):
            referral = assign_referral(
                referral=referral, providers=[provider], actor_user=created_by, now=now
            )
        if plan.outcome == "scheduled":
            _book(referral, provider, now)
    if escalate:
        # The escalation sweep itself, as the worker runs it (it also takes any other referral
        # already past its deadline, which the worker would escalate within minutes anyway).
        escalate_overdue(now=now)
    refs = [f"referral:{r.pk}" for r in created]
    refs += [
        f"appointment:{pk}"
        for pk in Referral.objects.filter(pk__in=[r.pk for r in created])
        .exclude(appointment=None)
        .values_list("appointment_id", flat=True)
    ]
    Notification.objects.filter(subject_ref__in=refs).delete()
    return len(created)


def _book(referral: Referral, provider: Provider, now: datetime) -> None:
    """Book through the referral link, as the patient would: the first offered time 3 days on."""
    offer = referral.offers.select_related("service").get(provider=provider)
    slots = availability.offered_slots(
        offer.service, start=now + timedelta(days=3), end=now + timedelta(days=17), now=now
    )
    if not slots:
        return
    book_appointment(
        possession=True,
        service=offer.service,
        start=slots[0][0],
        patient=PatientDetails(
            name=referral.patient_name,
            phone=referral.patient_phone,
            timezone=referral.patient_timezone,
            state=referral.patient_state,
        ),
        sms_consent=False,
        referral_token=referral_token(referral),
        consent_source="demo",
        now=now,
    )


def _coordinator_login(result: SeedResult, organization: Organization) -> Any:
    """Development-only coordinator login, so the referral board can be tried."""
    username, password = COORDINATOR_LOGIN
    user, created = get_user_model().objects.get_or_create(
        username=username, defaults={"email": f"{username}@{organization.slug}.example.org"}
    )
    user.is_active = True
    if created:
        user.set_password(password)
    user.save()
    Coordinator.objects.update_or_create(user=user, defaults={"organization": organization})
    result.logins.append((f"referral coordinator ({organization.name})", username, password))
    return user


@transaction.atomic
def seed_demo(*, now: datetime | None = None, with_logins: bool | None = None) -> SeedResult:
    """Load (or refresh) the demo directory, patients, bookings and referrals; logins only
    in DEBUG."""
    now = now or timezone.now()
    logins = settings.DEBUG if with_logins is None else with_logins
    result = seed_directory(now=now, with_logins=logins)
    organization = demo_organization()
    coordinator = _coordinator_login(result, organization) if logins else None
    # Without the coordinator login the referrals belong to no organization (staff see them).
    result.referrals_created = seed_referrals(
        provider=Provider.objects.get(slug=PROVIDER_LOGIN_SLUG), created_by=coordinator, now=now
    )
    return result
