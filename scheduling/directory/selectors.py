"""Reads of the directory: provider search, cards and profiles, in a fixed number of queries.

Hot lists are built as plain dicts from `values_list` rows; a ModelSerializer per provider
costs about a hundred times more here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from common.errors import NotFound
from scheduling.availability import selectors as availability
from scheduling.models import Provider, ProviderLicense, Service, WeeklyHours

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class ProviderFilters:
    """Validated search filters; None means "any"."""

    specialty: str | None = None
    state: str | None = None
    insurance: str | None = None
    language: str | None = None
    modality: str | None = None
    kind: str | None = None
    accepting: bool | None = None
    q: str | None = None


def search_providers(filters: ProviderFilters) -> QuerySet[Provider]:
    """Providers matching every given filter, by name; each relation filter matches one row."""
    providers = Provider.objects.defer("bio", "feed_token_salt", "feed_token_hash")
    if filters.specialty:
        providers = providers.filter(specialties__slug=filters.specialty)
    if filters.state:
        providers = providers.filter(licenses__state=filters.state)
    if filters.insurance:
        providers = providers.filter(insurance__slug=filters.insurance)
    if filters.language:
        providers = providers.filter(languages__code=filters.language)
    if filters.modality == "video":
        providers = providers.filter(offers_video=True)
    elif filters.modality == "phone":
        providers = providers.filter(offers_phone=True)
    if filters.kind:
        providers = providers.filter(kind=filters.kind)
    if filters.accepting is not None:
        providers = providers.filter(accepting_new_patients=filters.accepting)
    if filters.q:
        providers = providers.filter(
            Q(name__icontains=filters.q)
            | Q(bio__icontains=filters.q)
            | Q(credentials__icontains=filters.q)
        )
    return providers.order_by("name", "id")


def _related_codes(ids: list[int]) -> dict[str, dict[int, list[str]]]:
    """Provider id -> sorted codes of its specialties, languages, insurance and states."""
    found: dict[str, dict[int, list[str]]] = {
        key: defaultdict(list) for key in ("specialties", "languages", "insurance", "states")
    }
    queries: list[tuple[str, Any]] = [
        (
            "specialties",
            Provider.specialties.through.objects.filter(provider_id__in=ids).values_list(
                "provider_id", "specialty__slug"
            ),
        ),
        (
            "languages",
            Provider.languages.through.objects.filter(provider_id__in=ids).values_list(
                "provider_id", "language__code"
            ),
        ),
        (
            "insurance",
            Provider.insurance.through.objects.filter(provider_id__in=ids).values_list(
                "provider_id", "insurance__slug"
            ),
        ),
        (
            "states",
            ProviderLicense.objects.filter(provider_id__in=ids).values_list("provider_id", "state"),
        ),
    ]
    for key, rows in queries:
        for pid, code in rows:
            found[key][pid].append(code)
        for codes in found[key].values():
            codes.sort()
    return found


def _active_services(providers: Sequence[Provider]) -> dict[int, list[Service]]:
    """Provider id -> its active services by position, each with its provider attached."""
    by_id = {p.pk: p for p in providers}
    services: dict[int, list[Service]] = defaultdict(list)
    rows = Service.objects.filter(provider_id__in=list(by_id), is_active=True).order_by(
        "provider_id", "position", "id"
    )
    for service in rows:
        service.provider = by_id[service.provider_id]  # saves a query per provider later
        services[service.provider_id].append(service)
    return services


def _iso_utc(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def provider_cards(
    providers: Sequence[Provider], *, now: datetime | None = None
) -> list[dict[str, Any]]:
    """Search results as plain dicts with `next_available` of each first active service."""
    providers = list(providers)
    if not providers:
        return []
    ids = [p.pk for p in providers]
    codes = _related_codes(ids)
    services = _active_services(providers)
    firsts = [found[0] for found in services.values() if found]
    soonest = availability.next_available(firsts, now=now or timezone.now())
    cards = []
    for p in providers:
        first = services[p.pk][0] if services.get(p.pk) else None
        cards.append(
            {
                "slug": p.slug,
                "name": p.name,
                "display_name": p.display_name,
                "credentials": p.credentials,
                "intro": p.intro,
                "photo_url": p.photo_url,
                "kind": p.kind,
                "timezone": p.timezone,
                "licensed_states": codes["states"].get(p.pk, []),
                "specialties": codes["specialties"].get(p.pk, []),
                "languages": codes["languages"].get(p.pk, []),
                "insurance": codes["insurance"].get(p.pk, []),
                "modalities": p.modalities,
                "accepting_new_patients": p.accepting_new_patients,
                "next_available": _iso_utc(soonest.get(first.pk)) if first else None,
                "next_available_service": first.slug if first else None,
            }
        )
    return cards


def get_provider(slug: str) -> Provider:
    """The provider with this slug, or DomainError not_found (404)."""
    # A NUL cannot be in any slug, and PostgreSQL refuses it in a query: unknown, not a 500.
    provider = None if "\x00" in slug else Provider.objects.filter(slug=slug).first()
    if provider is None:
        raise NotFound(f"No provider with slug {slug!r}.")
    return provider


def service_dict(service: Service, next_available: datetime | None) -> dict[str, Any]:
    return {
        "slug": service.slug,
        "name": service.name,
        "duration_minutes": service.duration_minutes,
        "buffer_before_minutes": service.buffer_before_minutes,
        "buffer_after_minutes": service.buffer_after_minutes,
        "min_notice_hours": service.min_notice_hours,
        "horizon_days": service.horizon_days,
        "slot_step_minutes": service.slot_step_minutes,
        "requires_approval": service.requires_approval,
        "capacity": service.capacity,
        "is_group": service.is_group,
        "series_max_weeks": service.series_max_weeks,
        "open_to_all_states": service.open_to_all_states,
        "next_available": _iso_utc(next_available),
    }


def provider_profile(provider: Provider, *, now: datetime | None = None) -> dict[str, Any]:
    """The public profile: the card fields, bio, weekly hours and active services."""
    codes = _related_codes([provider.pk])
    services = _active_services([provider]).get(provider.pk, [])
    soonest = availability.next_available(services, now=now or timezone.now())
    hours = WeeklyHours.objects.filter(provider=provider).order_by("weekday", "start")
    return {
        "slug": provider.slug,
        "name": provider.name,
        "display_name": provider.display_name,
        "credentials": provider.credentials,
        "intro": provider.intro,
        "photo_url": provider.photo_url,
        "kind": provider.kind,
        "kind_label": provider.get_kind_display(),
        "timezone": provider.timezone,
        "bio": provider.bio,
        "licensed_states": codes["states"].get(provider.pk, []),
        "specialties": codes["specialties"].get(provider.pk, []),
        "languages": codes["languages"].get(provider.pk, []),
        "insurance": codes["insurance"].get(provider.pk, []),
        "modalities": provider.modalities,
        "accepting_new_patients": provider.accepting_new_patients,
        "weekly_hours": [
            {
                "weekday": WEEKDAYS[h.weekday],
                "start": h.start.strftime("%H:%M"),
                "end": h.end.strftime("%H:%M"),
            }
            for h in hours
        ],
        "services": [service_dict(s, soonest.get(s.pk)) for s in services],
    }


def slot_target(
    provider_slug: str, service_slug: str | None, state: str | None
) -> tuple[Provider, Service | None, bool]:
    """(provider, its active service by slug or its first, licensed in state?) in one query.

    Raises not_found for an unknown provider; the extra queries happen only on that path.
    """
    if "\x00" in provider_slug:
        get_provider(provider_slug)  # not_found without a query PostgreSQL would refuse
    services = (
        Service.objects.filter(provider__slug=provider_slug, is_active=True)
        .select_related("provider")
        .order_by("position", "id")
    )
    if service_slug is not None:
        services = services.filter(slug=service_slug)
    if state is not None:
        services = services.annotate(
            licensed=Exists(
                ProviderLicense.objects.filter(provider_id=OuterRef("provider_id"), state=state)
            )
        )
    service = services.first()
    if service is None:
        provider = get_provider(provider_slug)
        return provider, None, state is None or is_licensed_in(provider, state)
    licensed = service.open_to_all_states or bool(getattr(service, "licensed", True))
    return service.provider, service, licensed


def active_service(provider: Provider, slug: str | None) -> Service | None:
    """The provider's active service with this slug, or its first one when slug is None."""
    services = Service.objects.filter(provider=provider, is_active=True).order_by("position", "id")
    if slug is not None:
        services = services.filter(slug=slug)
    service = services.first()
    if service is not None:
        service.provider = provider
    return service


def is_licensed_in(provider: Provider, state: str) -> bool:
    return ProviderLicense.objects.filter(provider=provider, state=state).exists()
