"""A small directory, a coordinator and helpers to drive referrals through the API."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine
from rest_framework.test import APIClient

from referrals.links import referral_token
from referrals.models import Coordinator, Organization, Referral
from scheduling.models import Provider
from tests.factories import (
    InsuranceFactory,
    LanguageFactory,
    ProviderFactory,
    ServiceFactory,
    SpecialtyFactory,
    UserFactory,
)

# A Monday morning in New York; providers work Mon-Fri 09:00-17:00 there.
NOW = datetime(2026, 3, 9, 13, 0, tzinfo=UTC)
SPECIALTY = "opioid-use-disorder"


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def specialty(db):
    return SpecialtyFactory(slug=SPECIALTY, name="Opioid use disorder")


def make_provider(
    slug: str,
    *,
    states: list[str] | None = None,
    specialties: list[str] | None = None,
    languages: list[str] | None = None,
    insurance: list[str] | None = None,
    service_slug: str = "intake",
    requires_approval: bool = False,
    **fields: Any,
) -> Provider:
    provider = ProviderFactory(
        slug=slug, name=fields.pop("name", "Dana Whitfield"), states=states or ["NY"], **fields
    )
    for s in specialties if specialties is not None else [SPECIALTY]:
        provider.specialties.add(SpecialtyFactory(slug=s))
    for code in languages or ["en"]:
        provider.languages.add(LanguageFactory(code=code, name=code))
    for plan in insurance or ["medicaid"]:
        provider.insurance.add(InsuranceFactory(slug=plan))
    ServiceFactory(
        provider=provider,
        slug=service_slug,
        name="Intake",
        duration_minutes=50,
        requires_approval=requires_approval,
    )
    return provider


@pytest.fixture
def provider_factory(specialty) -> Callable[..., Provider]:
    return make_provider


@pytest.fixture
def organization(db):
    return Organization.objects.create(slug="county-ed", name="County Emergency Department")


@pytest.fixture
def coordinator_user(organization):
    user = UserFactory(username="casey", email="casey@county.example.org")
    Coordinator.objects.create(user=user, organization=organization)
    return user


@pytest.fixture
def staff_client(coordinator_user) -> APIClient:
    client = APIClient()
    client.force_authenticate(coordinator_user)
    return client


def provider_client(provider: Provider) -> APIClient:
    if provider.user is None:
        provider.user = UserFactory(username=f"u-{provider.slug}")
        provider.save()
    client = APIClient()
    client.force_authenticate(provider.user)
    return client


def referral_payload(**changes: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "patient": {
            "name": "Alex Rivera",
            "phone": "+12125550142",
            "email": "alex@example.net",
            "timezone": "America/New_York",
            "state": "NY",
            "sms_consent": True,
        },
        "referrer": {
            "name": "Dr. Pat Lee",
            "organization": "Mercy Primary Care",
            "phone": "+12125550199",
            "email": "pat.lee@mercy.example.org",
            "sms_consent": True,
        },
        "reason": "Opioid withdrawal after ED visit; needs buprenorphine induction",
        "notes": "History of overdose in 2024. Prefers mornings.",
        "specialty": SPECIALTY,
        "service": "intake",
        "urgency": "urgent",
        "preferences": {"language": "es", "insurance": "medicaid", "modality": "video"},
    }
    payload.update(changes)
    return payload


@pytest.fixture
def create_referral(staff_client, specialty) -> Callable[..., Referral]:
    def create(**changes: Any) -> Referral:
        response = staff_client.post("/api/referrals/", referral_payload(**changes), format="json")
        assert response.status_code == 201, response.json()
        return Referral.objects.get(pk=response.json()["id"])

    return create


def book(referral: Referral, provider: Provider, start: str, *, token: str | None = None) -> Any:
    """Book through the public API with the referral's link token, as the patient does."""
    return APIClient().post(
        "/api/appointments/",
        {
            "provider": provider.slug,
            "service": "intake",
            "start": start,
            "patient": {
                "name": "Alex Rivera",
                "phone": "+12125550142",
                "email": "alex@example.net",
                "timezone": "America/New_York",
                "state": "NY",
            },
            "sms_consent": True,
            "referral_token": token if token is not None else referral_token(referral),
        },
        format="json",
    )
