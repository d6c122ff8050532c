"""GET /api/referrals/{id}/matches/: the database honours every hard filter, in few queries."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from referrals.models import OfferStatus, ReferralOffer
from scheduling.models import Service
from tests.factories import AppointmentFactory, PatientFactory
from tests.referrals.conftest import NOW


def _slugs(client, referral) -> list[str]:
    response = client.get(f"/api/referrals/{referral.id}/matches/")
    assert response.status_code == 200, response.json()
    return [m["provider"] for m in response.json()["results"]]


@pytest.mark.parametrize(
    "misfit",
    [
        {"states": ["NJ"]},
        {"specialties": ["family-therapy"]},
        {"accepting_new_patients": False},
        {"offers_video": False},
        {"insurance": ["aetna"]},
        {"service_slug": "follow-up"},
    ],
    ids=["license", "specialty", "accepting", "modality", "insurance", "service"],
)
def test_a_provider_failing_a_hard_filter_never_appears(
    misfit, clock, staff_client, provider_factory, create_referral
):
    provider_factory("fits")
    provider_factory("misfit", **misfit)
    assert _slugs(staff_client, create_referral()) == ["fits"]


def test_a_provider_licensed_elsewhere_is_not_matched_even_when_named_by_the_referrer(
    clock, staff_client, provider_factory, create_referral
):
    provider_factory("fits")
    provider_factory("nj-only", states=["NJ"])
    referral = create_referral(preferences={"provider": "nj-only"})
    assert _slugs(staff_client, referral) == ["fits"]
    response = staff_client.post(
        f"/api/referrals/{referral.id}/assign/", {"provider": "nj-only"}, format="json"
    )
    assert (response.status_code, response.json()["code"]) == (400, "provider_not_eligible")


def test_optional_filters_apply_only_when_given(
    clock, staff_client, provider_factory, create_referral
):
    provider_factory("phone-aetna", offers_video=False, insurance=["aetna"])
    referral = create_referral(preferences={})
    assert _slugs(staff_client, referral) == ["phone-aetna"]


def test_matches_rank_by_next_available_then_language_then_load_and_say_why(
    clock, staff_client, provider_factory, create_referral
):
    provider_factory("english-free")
    provider_factory("spanish-busy", languages=["es"])
    provider_factory("spanish-free", languages=["es"])
    provider_factory(
        "late-starter", languages=["es"], hours=[(d, "15:00", "17:00") for d in range(5)]
    )
    for i in range(2):
        AppointmentFactory(
            service=Service.objects.get(provider__slug="spanish-busy"),
            patient=PatientFactory(),
            start=NOW + timedelta(days=7 + i),
        )
    response = staff_client.get(f"/api/referrals/{create_referral().id}/matches/")
    results = response.json()["results"]
    assert [m["provider"] for m in results] == [
        "spanish-free",
        "spanish-busy",
        "english-free",
        "late-starter",
    ]
    first = results[0]
    assert first["next_available"] == "2026-03-10T13:00:00+00:00"
    assert "Licensed in NY" in first["reasons"] and "Speaks es" in first["reasons"]
    assert results[1]["load"] == 2


def test_a_provider_who_declined_is_left_out(
    clock, staff_client, provider_factory, create_referral
):
    dana = provider_factory("dana")
    provider_factory("sam")
    referral = create_referral()
    ReferralOffer.objects.create(
        referral=referral, provider=dana, service=dana.services.get(), status=OfferStatus.DECLINED
    )
    assert _slugs(staff_client, referral) == ["sam"]


def test_matching_takes_the_same_number_of_queries_for_3_or_30_providers(
    clock, staff_client, provider_factory, create_referral
):
    for i in range(3):
        provider_factory(f"a{i}")
    referral = create_referral()

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert staff_client.get(f"/api/referrals/{referral.id}/matches/").status_code == 200
        return len(ctx.captured_queries)

    count()  # warm the per-user caches of the authentication
    few = count()
    for i in range(27):
        provider = provider_factory(f"b{i}", languages=["es", "en"])
        AppointmentFactory(
            service=provider.services.get(), start=NOW + timedelta(days=2, hours=i % 5)
        )
    assert count() == few
