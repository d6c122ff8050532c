"""The stored directory as an import document, so operators can edit it and import it back."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC
from typing import Any

from django.db.models import Prefetch

from scheduling.directory.readers import WEEKDAYS
from scheduling.directory.validation import SERVICE_SETTINGS
from scheduling.models import Provider, Service


def export_directory(*, slugs: Iterable[str] | None = None) -> dict[str, Any]:
    """Every provider (or those named) with active services; importing it back changes nothing."""
    providers = Provider.objects.order_by("slug").prefetch_related(
        "licenses",
        "specialties",
        "languages",
        "insurance",
        "weekly_hours",
        "overrides",
        "time_off",
        Prefetch("services", queryset=Service.objects.filter(is_active=True).order_by("position")),
    )
    if slugs is not None:
        providers = providers.filter(slug__in=list(slugs))
    return {"providers": [_provider(p) for p in providers]}


def _provider(p: Provider) -> dict[str, Any]:
    return {
        "slug": p.slug,
        "name": p.name,
        "credentials": p.credentials,
        "kind": p.kind,
        "timezone": p.timezone,
        "licensed_states": sorted(license.state for license in p.licenses.all()),
        "specialties": sorted(s.slug for s in p.specialties.all()),
        "languages": sorted(lang.code for lang in p.languages.all()),
        "insurance": sorted(i.slug for i in p.insurance.all()),
        "modalities": p.modalities,
        "accepting_new_patients": p.accepting_new_patients,
        "bio": p.bio,
        "intro": p.intro,
        "photo_url": p.photo_url,
        "credentials_on_private_pages": p.credentials_on_private_pages,
        "email": p.email,
        "services": [
            {"slug": s.slug, "name": s.name, **{key: getattr(s, key) for key in SERVICE_SETTINGS}}
            for s in p.services.all()
        ],
        "weekly_hours": [
            {"weekday": WEEKDAYS[h.weekday], "start": f"{h.start:%H:%M}", "end": f"{h.end:%H:%M}"}
            for h in p.weekly_hours.all()
        ],
        "overrides": [
            {"date": o.date.isoformat(), "windows": o.windows} for o in p.overrides.all()
        ],
        "time_off": [
            {
                "start": t.start.astimezone(UTC).isoformat(),
                "end": t.end.astimezone(UTC).isoformat(),
                "note": t.note,
            }
            for t in p.time_off.all()
        ],
    }
