"""A referral offered to one provider, made through the referrals services (not a test module)."""

from __future__ import annotations

from typing import Any

from referrals.links import referral_token
from referrals.services import assign_referral, create_referral
from scheduling.models import Provider
from tests.factories import SpecialtyFactory, StaffFactory

SPECIALTY = "opioid-use-disorder"


def offer_referral(providers: list[Provider], **overrides: Any) -> tuple[Any, str]:
    specialty = SpecialtyFactory(slug=SPECIALTY, name="Opioid use disorder")
    for provider in providers:
        provider.specialties.add(specialty)
    staff = StaffFactory(username="coordinator")
    referral = create_referral(
        created_by=staff,
        patient={
            "name": "Riley Jordan",
            "phone": "+12125550199",
            "timezone": "America/New_York",
            "state": "NY",
            "sms_consent": True,
        },
        referrer={"name": "Dr. Kim", "organization": "County ED"},
        reason="Needs follow-up after an ED visit for withdrawal",
        specialty=SPECIALTY,
        **overrides,
    )
    referral = assign_referral(referral=referral, providers=providers, actor_user=staff)
    return referral, referral_token(referral)
