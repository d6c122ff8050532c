"""Reads: candidate providers for a referral, referrals a user may see, the coordinator board."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from referrals.matching import Candidate, Criteria, Match, rank
from referrals.models import OfferStatus, Referral, ReferralOffer
from scheduling.availability.selectors import next_available
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
        state=referral.patient_state,
        specialty=referral.specialty.slug,
        modality=referral.modality,
        insurance=referral.insurance,
        language=referral.language,
        preferred_provider_id=referral.preferred_provider_id,
        excluded_provider_ids=declined,
    )


def _services(service_slug: str) -> QuerySet[Service]:
    """The service a referral books with each provider: the named one, else their first."""
    services = Service.objects.filter(is_active=True).order_by("provider_id", "position", "id")
    if service_slug:
        services = services.filter(slug=service_slug)
    return services


def _candidate_providers(criteria: Criteria, service_slug: str) -> QuerySet[Provider]:
    """Providers passing the hard filters, in SQL."""
    services = _services(service_slug)
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
    return qs.only(
        "pk", "slug", "name", "timezone", "accepting_new_patients", "offers_video", "offers_phone"
    )


def _loads(provider_ids: Any, now: datetime) -> dict[int, int]:
    """Upcoming active appointments per provider, in one query.

    The status and start conditions sit inside the aggregate, not the WHERE clause: there
    SQLite's planner would pick the (status, start) index and scan every upcoming
    appointment of the directory, while (provider, blocked_end) reads only the candidates'.
    """
    rows = (
        Appointment.objects.filter(provider_id__in=provider_ids, blocked_end__gte=now)
        .order_by()
        .values("provider_id")
        .annotate(n=Count("pk", filter=Q(status__in=ACTIVE_STATUSES, start__gte=now)))
        .values_list("provider_id", "n")
    )
    return dict(rows)


@dataclass
class _Facts:
    """The provider attributes the matcher checks, read as plain (provider, value) pairs."""

    states: dict[int, set[str]] = field(default_factory=lambda: defaultdict(set))
    specialties: dict[int, set[str]] = field(default_factory=lambda: defaultdict(set))
    languages: dict[int, set[str]] = field(default_factory=lambda: defaultdict(set))
    insurance: dict[int, set[str]] = field(default_factory=lambda: defaultdict(set))


def _facts(provider_ids: Any) -> _Facts:
    """Four flat queries; cheaper than prefetching model instances for a thousand providers."""
    facts = _Facts()
    pairs = [
        (facts.states, ProviderLicense.objects.values_list("provider_id", "state")),
        (
            facts.specialties,
            Provider.specialties.through.objects.values_list("provider_id", "specialty__slug"),
        ),
        (
            facts.languages,
            Provider.languages.through.objects.values_list("provider_id", "language__code"),
        ),
        (
            facts.insurance,
            Provider.insurance.through.objects.values_list("provider_id", "insurance__slug"),
        ),
    ]
    for target, rows in pairs:
        for provider_id, value in rows.filter(provider_id__in=provider_ids).order_by():
            target[provider_id].add(value)
    return facts


def _candidate(
    provider: Provider,
    service: Service | None,
    when: dict[int, datetime | None],
    loads: dict[int, int],
    facts: _Facts,
) -> Candidate:
    pk = provider.pk
    return Candidate(
        provider_id=pk,
        slug=provider.slug,
        name=provider.name,
        display_name=provider.display_name,
        service_id=service.pk if service else None,
        service_slug=service.slug if service else "",
        accepting_new_patients=provider.accepting_new_patients,
        licensed_states=frozenset(facts.states.get(pk, ())),
        specialties=frozenset(facts.specialties.get(pk, ())),
        modalities=frozenset(provider.modalities),
        insurance=frozenset(facts.insurance.get(pk, ())),
        languages=frozenset(facts.languages.get(pk, ())),
        load=loads.get(pk, 0),
        next_available=when.get(service.pk) if service else None,
    )


def find_matches(
    referral: Referral, *, now: datetime | None = None
) -> tuple[list[Match], dict[int, Service]]:
    """Ranked matches for a referral, and the service each provider would be booked for.

    A fixed number of queries whatever the directory size: the candidates, their services,
    facts and loads (each selecting by the candidates' subquery, cheaper than a thousand
    bound parameters), then one next_available() call for all their services.
    """
    now = now or timezone.now()
    criteria = criteria_for(referral)
    candidates_qs = _candidate_providers(criteria, referral.service_slug)
    providers = {p.pk: p for p in candidates_qs}
    ids = candidates_qs.values("pk")
    services: dict[int, Service] = {}
    for service in _services(referral.service_slug).filter(provider_id__in=ids):
        if service.provider_id not in services:
            service.provider = providers[service.provider_id]  # no query per service later
            services[service.provider_id] = service
    when = next_available(list(services.values()), now=now) if services else {}
    loads = _loads(ids, now)
    facts = _facts(ids)
    candidates = [
        _candidate(p, services.get(pk), when, loads, facts) for pk, p in providers.items()
    ]
    return rank(criteria, candidates), services


def referral_queryset() -> QuerySet[Referral]:
    return Referral.objects.select_related(
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
