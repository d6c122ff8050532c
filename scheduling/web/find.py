"""Find help: the visitor's state first, then filters, then provider cards."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from common.states import STATES
from scheduling.availability import selectors as availability
from scheduling.directory.selectors import ProviderFilters, search_providers
from scheduling.web.forms import FindForm
from scheduling.web.helpers import allow_photos
from scheduling.web.zones import remember_zone, visitor_zone

NEVER = datetime.max.replace(tzinfo=UTC)


def find_help(request: HttpRequest) -> HttpResponse:
    """GET only: the search is a link anyone can share or bookmark."""
    form = FindForm(request.GET or None)
    state = ""
    results: list[dict[str, Any]] = []
    if form.is_valid():
        data = form.cleaned_data
        state = data["state"]
        filters = ProviderFilters(
            state=state,
            kind=data["kind"] or None,
            specialty=data["specialty"].slug if data["specialty"] else None,
            insurance=data["insurance"].slug if data["insurance"] else None,
            language=data["language"].code if data["language"] else None,
            modality=data["modality"] or None,
            accepting=True,
        )
        providers = list(search_providers(filters).prefetch_related("languages", "services"))
        first_services = {p.pk: _first_service(p) for p in providers}
        when = availability.next_available([s for s in first_services.values() if s])
        results = [
            {
                "provider": p,
                "service": first_services[p.pk],
                "next": when.get(first_services[p.pk].pk) if first_services[p.pk] else None,
            }
            for p in providers
        ]
        for r in results:
            r["book_url"] = _book_url(r["provider"], r["service"], r["next"], state)
        if data["sort"] != "name":
            # Soonest first, from the openings already computed: no query more.
            results.sort(key=lambda r: (r["next"] is None, r["next"] or NEVER))
    zone = visitor_zone(request, state=state)
    context = {
        "form": form,
        "searched": form.is_bound and form.is_valid(),
        "state": state,
        "state_name": STATES.get(state, ""),
        "results": results,
        "zone": zone,
        "hidden": {k: v for k, v in request.GET.items() if k != "tz"},
    }
    response = remember_zone(render(request, "scheduling/find.html", context), zone)
    return allow_photos(response, [r["provider"].photo_url for r in results])


def _first_service(provider: Any) -> Any:
    services = [s for s in provider.services.all() if s.is_active]
    return services[0] if services else None


def _book_url(provider: Any, service: Any, start: datetime | None, state: str) -> str:
    """The booking form for the next opening: one tap from the results to the form."""
    if start is None:
        return ""
    query = urlencode({"service": service.slug, "state": state, "start": start.isoformat()})
    return f"{reverse('book', args=[provider.slug])}?{query}"
