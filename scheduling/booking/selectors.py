"""Reads the booking services start from: the service to book and the provider's licence."""

from __future__ import annotations

from django.db.models import Exists, OuterRef

from common.errors import DomainError
from scheduling.models import Provider, ProviderLicense, Service


def get_bookable_service(
    *, provider_slug: str, service_slug: str, state: str | None = None
) -> Service:
    """The active service `service_slug` of provider `provider_slug` (400 unknown_* otherwise).

    With `state`, whether the provider is licensed there comes along in the same query.
    """
    services = Service.objects.select_related("provider").filter(
        provider__slug=provider_slug, slug=service_slug, is_active=True
    )
    code = state.upper() if isinstance(state, str) else None
    if code:
        services = services.annotate(
            licensed_here=Exists(
                ProviderLicense.objects.filter(provider_id=OuterRef("provider_id"), state=code)
            )
        )
    service = services.first()
    if service is not None:
        if code:
            service._licensed_for = (code, service.licensed_here)  # type: ignore[attr-defined]
        return service
    if not Provider.objects.filter(slug=provider_slug).exists():
        raise DomainError(
            "unknown_provider",
            f"No provider {provider_slug!r}.",
            fields={"provider": ["Unknown provider."]},
        )
    raise DomainError(
        "unknown_service",
        f"Provider {provider_slug!r} offers no service {service_slug!r}.",
        fields={"service": ["Unknown service."]},
    )


def is_licensed(service: Service, state: str) -> bool:
    if service.open_to_all_states:  # a peer-led group: no clinical care, no licence needed
        return True
    known = getattr(service, "_licensed_for", None)
    if known is not None and known[0] == state:
        return bool(known[1])
    return service.provider.licenses.filter(state=state).exists()
