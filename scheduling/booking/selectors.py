"""Reads the booking services start from: the service to book and the provider's licence."""

from __future__ import annotations

from django.db import connections, router

from common.errors import DomainError
from common.sql import instance
from scheduling.models import Provider, ProviderLicense, Service


def get_bookable_service(
    *, provider_slug: str, service_slug: str, state: str | None = None
) -> Service:
    """The active service `service_slug` of provider `provider_slug` (400 unknown_* otherwise).

    With `state`, whether the provider is licensed there comes along in the same query.
    """
    code = state.upper() if isinstance(state, str) else None
    service = _active_service(provider_slug, service_slug, code)
    if service is not None:
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


def _active_service(provider_slug: str, service_slug: str, code: str | None) -> Service | None:
    """The service with its provider (and whether licensed in `code`) in one hand-written
    SELECT: the ORM spent ~3 ms of CPU building this query (a join and an EXISTS), more than
    the rest of a booking's statements together."""
    alias = router.db_for_read(Service)
    connection = connections[alias]
    quote = connection.ops.quote_name
    service_fields = Service._meta.concrete_fields
    provider_fields = Provider._meta.concrete_fields
    s_table, p_table = quote(Service._meta.db_table), quote(Provider._meta.db_table)
    license_table = quote(ProviderLicense._meta.db_table)
    columns = [f"s.{quote(str(f.column))}" for f in service_fields]
    columns += [f"p.{quote(str(f.column))}" for f in provider_fields]
    licensed = "NULL"
    if code:
        licensed = (
            f"EXISTS (SELECT 1 FROM {license_table} l"  # noqa: S608 - identifiers only
            " WHERE l.provider_id = s.provider_id AND l.state = %s)"
        )
    # Only identifiers from the models' metadata are interpolated; values are parameters.
    sql = (
        f"SELECT {', '.join(columns)}, {licensed} FROM {s_table} s"  # noqa: S608
        f" INNER JOIN {p_table} p ON p.id = s.provider_id"
        " WHERE p.slug = %s AND s.slug = %s AND s.is_active LIMIT 1"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*([code] if code else []), provider_slug, service_slug])
        row = cursor.fetchone()
    if row is None:
        return None
    n = len(service_fields)
    service = instance(Service, alias, row[:n])
    service.provider = instance(Provider, alias, row[n : n + len(provider_fields)])
    if code:
        service._licensed_for = (code, bool(row[-1]))  # type: ignore[attr-defined]
    return service


def is_licensed(service: Service, state: str) -> bool:
    if service.open_to_all_states:  # a peer-led group: no clinical care, no licence needed
        return True
    known = getattr(service, "_licensed_for", None)
    if known is not None and known[0] == state:
        return bool(known[1])
    return service.provider.licenses.filter(state=state).exists()
