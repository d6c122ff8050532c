"""Writing a validated directory document: one transaction, bulk statements."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from django.db import IntegrityError, transaction

from common.errors import Conflict
from scheduling.audit.history import (
    create_with_history,
    delete_with_history,
    is_tracked,
    record_updates,
)
from scheduling.directory.names import language_name, vocabulary_name
from scheduling.directory.validation import ProviderSpec, validate_directory
from scheduling.models import (
    DateOverride,
    Insurance,
    Language,
    Provider,
    ProviderLicense,
    Service,
    Specialty,
    TimeOff,
    WeeklyHours,
)

BATCH = 500


@dataclass
class ImportSummary:
    providers_created: int = 0
    providers_updated: int = 0
    services_created: int = 0
    services_updated: int = 0
    services_deactivated: int = 0
    specialties_created: int = 0
    insurance_created: int = 0
    languages_created: int = 0
    created_specialties: list[str] = field(default_factory=list)
    created_insurance: list[str] = field(default_factory=list)
    created_languages: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def __str__(self) -> str:
        total = self.providers_created + self.providers_updated
        return (
            f"Imported {total} provider{'s' if total != 1 else ''} "
            f"({self.providers_created} created, {self.providers_updated} updated); "
            f"services: {self.services_created} created, {self.services_updated} updated, "
            f"{self.services_deactivated} deactivated; new vocabulary: "
            f"{self.specialties_created} specialties, {self.insurance_created} insurance plans, "
            f"{self.languages_created} languages."
        )


def import_directory(*, document: Any) -> ImportSummary:
    """Validate the document, then upsert it in one transaction; nothing is written on error."""
    specs = validate_directory(document)
    try:
        with transaction.atomic():
            return _write(specs)
    except IntegrityError as exc:
        # Only a concurrent writer can get here: the document itself was valid.
        raise Conflict(
            "directory_conflict",
            "The directory changed while importing; nothing was imported. Try again.",
        ) from exc


def _ensure_vocabulary(specs: list[ProviderSpec], summary: ImportSummary) -> dict[str, dict]:
    wanted: dict[str, set[str]] = {"specialties": set(), "insurance": set(), "languages": set()}
    for spec in specs:
        wanted["specialties"].update(spec.specialties or ())
        wanted["insurance"].update(spec.insurance or ())
        wanted["languages"].update(spec.languages or ())

    specialties = {s.slug: s.pk for s in Specialty.objects.filter(slug__in=wanted["specialties"])}
    missing = sorted(wanted["specialties"] - specialties.keys())
    for row in Specialty.objects.bulk_create(
        [Specialty(slug=slug, name=vocabulary_name(slug)) for slug in missing]
    ):
        specialties[row.slug] = row.pk
    summary.specialties_created, summary.created_specialties = len(missing), missing

    insurance = {i.slug: i.pk for i in Insurance.objects.filter(slug__in=wanted["insurance"])}
    missing = sorted(wanted["insurance"] - insurance.keys())
    for irow in Insurance.objects.bulk_create(
        [Insurance(slug=slug, name=vocabulary_name(slug)) for slug in missing]
    ):
        insurance[irow.slug] = irow.pk
    summary.insurance_created, summary.created_insurance = len(missing), missing

    languages = {lg.code: lg.pk for lg in Language.objects.filter(code__in=wanted["languages"])}
    missing = sorted(wanted["languages"] - languages.keys())
    for lrow in Language.objects.bulk_create(
        [Language(code=code, name=language_name(code)) for code in missing]
    ):
        languages[lrow.code] = lrow.pk
    summary.languages_created, summary.created_languages = len(missing), missing

    # bulk_create does not return primary keys on every backend; reload what was created.
    if any(pk is None for pk in (*specialties.values(), *insurance.values(), *languages.values())):
        specialties = dict(
            Specialty.objects.filter(slug__in=wanted["specialties"]).values_list("slug", "pk")
        )
        insurance = dict(
            Insurance.objects.filter(slug__in=wanted["insurance"]).values_list("slug", "pk")
        )
        languages = dict(
            Language.objects.filter(code__in=wanted["languages"]).values_list("code", "pk")
        )
    return {"specialties": specialties, "insurance": insurance, "languages": languages}


def _write(specs: list[ProviderSpec]) -> ImportSummary:
    """Upsert in a fixed number of queries, plus one UPDATE per provider or service changed."""
    summary = ImportSummary()
    vocab = _ensure_vocabulary(specs, summary)
    slugs = [spec.slug for spec in specs]
    existing = {p.slug: p for p in Provider.objects.select_for_update().filter(slug__in=slugs)}
    created: list[Provider] = []
    for spec in specs:
        provider = existing.get(spec.slug)
        if provider is None:
            created.append(Provider(slug=spec.slug, **spec.values))
        elif changed := _apply(provider, spec.values):
            # One UPDATE per changed row: bulk_update's CASE expressions cost far more.
            provider.save(update_fields=[*changed, "updated_at"])
    create_with_history(Provider, created, batch_size=BATCH)
    summary.providers_created = len(created)
    summary.providers_updated = len(specs) - len(created)
    ids = dict(Provider.objects.filter(slug__in=slugs).values_list("slug", "pk"))

    _replace_rows(
        ProviderLicense,
        [ids[spec.slug] for spec in specs],
        [
            ProviderLicense(provider_id=ids[spec.slug], state=state)
            for spec in specs
            for state in spec.licensed_states
        ],
    )
    for attr, target in (
        ("specialties", "specialty_id"),
        ("insurance", "insurance_id"),
        ("languages", "language_id"),
    ):
        through = getattr(Provider, attr).through
        chosen = [(ids[spec.slug], getattr(spec, attr)) for spec in specs]
        chosen = [(pk, codes) for pk, codes in chosen if codes is not None]
        _replace_rows(
            through,
            [pk for pk, _ in chosen],
            [
                through(provider_id=pk, **{target: vocab[attr][code]})
                for pk, codes in chosen
                for code in codes
            ],
        )
    _upsert_services(specs, ids, summary)

    listed = [spec for spec in specs if spec.weekly_hours is not None]
    _replace_rows(
        WeeklyHours,
        [ids[spec.slug] for spec in listed],
        [
            WeeklyHours(provider_id=ids[spec.slug], weekday=day, start=start, end=end)
            for spec in listed
            for day, start, end in spec.weekly_hours or ()
        ],
    )
    listed = [spec for spec in specs if spec.overrides is not None]
    _replace_rows(
        DateOverride,
        [ids[spec.slug] for spec in listed],
        [
            DateOverride(provider_id=ids[spec.slug], date=day, windows=windows)
            for spec in listed
            for day, windows in spec.overrides or ()
        ],
    )
    listed = [spec for spec in specs if spec.time_off is not None]
    _replace_rows(
        TimeOff,
        [ids[spec.slug] for spec in listed],
        [
            TimeOff(provider_id=ids[spec.slug], start=start, end=end, note=note)
            for spec in listed
            for start, end, note in spec.time_off or ()
        ],
    )
    return summary


def _apply(obj: Any, values: dict[str, Any]) -> list[str]:
    """Set the values that differ on `obj`; return the names of the fields changed."""
    changed = [key for key, value in values.items() if getattr(obj, key) != value]
    for key in changed:
        setattr(obj, key, values[key])
    return changed


def _replace_rows(model: Any, provider_ids: list[int], rows: list[Any]) -> None:
    """Delete the providers' rows of `model`, then insert `rows` (a list in the file replaces)."""
    if not is_tracked(model):  # the vocabulary links keep no history
        if provider_ids:
            model.objects.filter(provider_id__in=provider_ids).delete()
        model.objects.bulk_create(rows, batch_size=BATCH)
        return
    if provider_ids:
        delete_with_history(model.objects.filter(provider_id__in=provider_ids))
    create_with_history(model, rows, batch_size=BATCH)


def _upsert_services(
    specs: list[ProviderSpec], ids: dict[str, int], summary: ImportSummary
) -> None:
    listed = [spec for spec in specs if spec.services is not None]
    provider_ids = [ids[spec.slug] for spec in listed]
    stored = {
        (s.provider_id, s.slug): s
        for s in Service.objects.select_for_update().filter(provider_id__in=provider_ids)
    }
    created: list[Service] = []
    updated = 0
    keep: set[tuple[int, str]] = set()
    for spec in listed:
        provider_id = ids[spec.slug]
        for item in spec.services or ():
            keep.add((provider_id, item.slug))
            values = {**item.values, "position": item.position, "is_active": True}
            service = stored.get((provider_id, item.slug))
            if service is None:
                created.append(Service(provider_id=provider_id, slug=item.slug, **values))
                continue
            updated += 1
            if changed := _apply(service, values):
                service.save(update_fields=changed)
    create_with_history(Service, created, batch_size=BATCH)
    # Deactivated, never deleted: appointments reference services.
    retired = [s for key, s in stored.items() if key not in keep and s.is_active]
    Service.objects.filter(pk__in=[s.pk for s in retired]).update(is_active=False)
    for service in retired:
        service.is_active = False
    record_updates(Service, retired)
    summary.services_created = len(created)
    summary.services_updated = updated
    summary.services_deactivated = len(retired)
