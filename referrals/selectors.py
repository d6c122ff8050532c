"""Reads: candidate providers for a referral, referrals a user may see, the coordinator board."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from referrals.matching import Candidate, Criteria, Match, rank
from referrals.models import OfferStatus, Referral, ReferralOffer
from scheduling.availability import next_available
from scheduling.models import (
    ACTIVE_STATUSES,
    Appointment,
    Provider,
    ProviderLicense,
    Service,
)


def criteria_for(referral: Referral) -> Criteria:
    declined = frozenset(
        o.provider_id for o in referral.offers.all() if o.status == OfferStatus.DECLINED
    )
    return Criteria(
        state=referral.patient.state,
        specialty=referral.specialty.slug,
        modality=referral.modality,
        insurance=referral.insurance,
        language=referral.language,
        preferred_provider_id=referral.preferred_provider_id,
        excluded_provider_ids=declined,
    )


def _candidate_providers(
    criteria: Criteria, service_slug: str, now: datetime
) -> QuerySet[Provider]:
    """Providers passing the hard filters, in SQL, with everything the matcher reads prefetched."""
    services = Service.objects.filter(is_active=True).order_by("position", "id")
    if service_slug:
        services = services.filter(slug=service_slug)
    qs = Provider.objects.filter(
        Exists(ProviderLicense.objects.filter(provider=OuterRef("pk"), state=criteria.state)),
        Exists(
            Provider.specialties.through.objects.filter(
                provider_id=OuterRef("pk"), specialty__slug=criteria.specialty
            )
        ),
        Exists(services.filter(provider=OuterRef("pk"))),
        accepting_new_patients=True,
    ).exclude(pk__in=criteria.excluded_provider_ids)
    if criteria.modality == "video":
        qs = qs.filter(offers_video=True)
    elif criteria.modality == "phone":
        qs = qs.filter(offers_phone=True)
    if criteria.insurance:
        qs = qs.filter(
            Exists(
                Provider.insurance.through.objects.filter(
                    provider_id=OuterRef("pk"), insurance__slug=criteria.insurance
                )
            )
        )
    return qs.prefetch_related(
        "licenses",
        "specialties",
        "languages",
        "insurance",
        Prefetch(
            "services", queryset=services.select_related("provider"), to_attr="match_services"
        ),
    )


def _loads(provider_ids: list[int], now: datetime) -> dict[int, int]:
    """Upcoming active appointments per provider, in one query.

    Counted here rather than in SQL: filtering on status lets SQLite's planner pick the
    (status, start) index and scan every upcoming appointment of the directory, while the
    (provider, blocked_end) index reads only the candidates' rows.
    """
    loads: Counter[int] = Counter()
    if not provider_ids:
        return loads
    rows = (
        Appointment.objects.filter(provider_id__in=provider_ids, blocked_end__gte=now)
        .order_by()
        .values_list("provider_id", "status", "start")
    )
    for provider_id, status, start in rows:
        if status in ACTIVE_STATUSES and start >= now:
            loads[provider_id] += 1
    return loads


def _candidate(
    provider: Provider, when: dict[int, datetime | None], loads: dict[int, int]
) -> Candidate:
    service = provider.match_services[0] if provider.match_services else None  # type: ignore[attr-defined]
    return Candidate(
        provider_id=provider.pk,
        slug=provider.slug,
        name=provider.name,
        display_name=provider.display_name,
        service_id=service.pk if service else None,
        service_slug=service.slug if service else "",
        accepting_new_patients=provider.accepting_new_patients,
        licensed_states=frozenset(lic.state for lic in provider.licenses.all()),
        specialties=frozenset(s.slug for s in provider.specialties.all()),
        modalities=frozenset(provider.modalities),
        insurance=frozenset(i.slug for i in provider.insurance.all()),
        languages=frozenset(lang.code for lang in provider.languages.all()),
        load=loads.get(provider.pk, 0),
        next_available=when.get(service.pk) if service else None,
    )


def find_matches(
    referral: Referral, *, now: datetime | None = None
) -> tuple[list[Match], dict[int, Service]]:
    """Ranked matches for a referral, and the service each provider would be booked for.

    A fixed number of queries whatever the directory size: the candidates with their
    prefetches, then one next_available() call for all their services.
    """
    now = now or timezone.now()
    criteria = criteria_for(referral)
    providers = list(_candidate_providers(criteria, referral.service_slug, now))
    services = {
        p.pk: p.match_services[0]  # type: ignore[attr-defined]
        for p in providers
        if p.match_services  # type: ignore[attr-defined]
    }
    when = next_available(list(services.values()), now=now) if services else {}
    loads = _loads(list(services), now)
    candidates = [_candidate(p, when, loads) for p in providers]
    return rank(criteria, candidates), services


def referral_queryset() -> QuerySet[Referral]:
    return Referral.objects.select_related(
        "patient",
        "specialty",
        "provider",
        "preferred_provider",
        "appointment__provider",
        "organization",
        "created_by",
    ).prefetch_related(
        Prefetch("offers", queryset=ReferralOffer.objects.select_related("provider", "service")),
        "events",
    )


def staff_can_see(user: Any, referral: Referral) -> bool:
    """Whether the user coordinates this referral: superusers all, a coordinator their
    organization's, staff without an organization the unaffiliated ones."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_superuser:
        return True
    coordinator = getattr(user, "coordinator", None)
    if coordinator is not None:
        return referral.organization_id == coordinator.organization_id
    return bool(user.is_staff) and referral.organization_id is None


def visible_referrals(user: Any) -> QuerySet[Referral]:
    """What a user may see: what they coordinate (see staff_can_see), and as a provider
    the referrals offered or assigned to them."""
    qs = referral_queryset()
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return qs.none()
    if user.is_superuser:
        return qs
    scope = Q(pk__in=[])
    coordinator = getattr(user, "coordinator", None)
    if coordinator is not None:
        scope |= Q(organization_id=coordinator.organization_id)
    elif user.is_staff:
        scope |= Q(organization__isnull=True)
    provider = getattr(user, "provider", None)
    if provider is not None:
        scope |= Q(provider=provider) | Q(
            Exists(ReferralOffer.objects.filter(referral=OuterRef("pk"), provider=provider))
        )
    return qs.filter(scope)


def open_referrals_board(user: Any) -> QuerySet[Referral]:
    """The coordinator page: open referrals, oldest first within each status."""
    return (
        visible_referrals(user)
        .exclude(status__in=("completed", "cancelled"))
        .order_by("status", "created_at")
    )
