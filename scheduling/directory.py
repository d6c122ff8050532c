"""Validating and importing the directory document (all or nothing).

The whole document is validated first and every problem is collected, each with a path
that names the provider slug and the field (``dana-whitfield.weekly_hours[2].end``). Only
a document without a single error is written, in one transaction.

Upsert rules: providers by slug, services by (provider, slug). A list present in the file
(licensed states, vocabularies, services, weekly hours, overrides, time off) replaces the
stored one; services missing from a present ``services`` list are deactivated, never
deleted, because appointments reference them. A scalar field left out keeps its stored
value (or the model default for a new provider). Vocabulary slugs not yet known are
created with a readable name, so an operator can rename them later in the admin.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction

from common.errors import Conflict, DomainError
from common.timezones import is_timezone
from scheduling.models import (
    DateOverride,
    Insurance,
    Language,
    Provider,
    ProviderKind,
    ProviderLicense,
    Service,
    Specialty,
    TimeOff,
    WeeklyHours,
)
from scheduling.states import is_state

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
KINDS = tuple(kind.value for kind in ProviderKind)
MODALITIES = ("video", "phone")

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
LANGUAGE_RE = re.compile(r"^[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$")
TIME_RE = re.compile(r"^(?:[01]\d|2[0-3]):[0-5]\d$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

TOP_LEVEL_FIELDS = frozenset({"providers"})
PROVIDER_FIELDS = frozenset(
    {
        "slug",
        "name",
        "credentials",
        "kind",
        "timezone",
        "licensed_states",
        "specialties",
        "languages",
        "insurance",
        "modalities",
        "accepting_new_patients",
        "bio",
        "email",
        "services",
        "weekly_hours",
        "overrides",
        "time_off",
    }
)
# name and licensed_states report their own absence.
REQUIRED_PROVIDER_FIELDS = ("slug", "kind", "timezone")
SERVICE_FIELDS = frozenset(
    {
        "slug",
        "name",
        "duration_minutes",
        "buffer_before_minutes",
        "buffer_after_minutes",
        "min_notice_hours",
        "horizon_days",
        "slot_step_minutes",
        "requires_approval",
        "capacity",
        "late_cancel_hours",
    }
)
# Sane bounds: a typo such as 6000 minutes is refused instead of breaking the slot engine.
SERVICE_NUMBERS: dict[str, tuple[int, int]] = {
    "duration_minutes": (5, 480),
    "buffer_before_minutes": (0, 240),
    "buffer_after_minutes": (0, 240),
    "min_notice_hours": (0, 720),
    "horizon_days": (1, 365),
    "slot_step_minutes": (5, 240),
    "capacity": (1, 200),
    "late_cancel_hours": (0, 720),
}
BATCH = 500
MAX_LENGTHS = {"name": 160, "credentials": 120, "bio": 5000, "email": 254, "note": 200}

# Readable names for vocabulary rows the importer creates; anything else is title-cased.
LANGUAGE_NAMES = {
    "am": "Amharic",
    "ar": "Arabic",
    "ase": "American Sign Language",
    "bn": "Bengali",
    "de": "German",
    "el": "Greek",
    "en": "English",
    "es": "Spanish",
    "fa": "Persian",
    "fr": "French",
    "gu": "Gujarati",
    "he": "Hebrew",
    "hi": "Hindi",
    "hmn": "Hmong",
    "ht": "Haitian Creole",
    "it": "Italian",
    "ja": "Japanese",
    "km": "Khmer",
    "ko": "Korean",
    "lo": "Lao",
    "ne": "Nepali",
    "nv": "Navajo",
    "pa": "Punjabi",
    "pl": "Polish",
    "pt": "Portuguese",
    "ru": "Russian",
    "so": "Somali",
    "sw": "Swahili",
    "tl": "Tagalog",
    "uk": "Ukrainian",
    "ur": "Urdu",
    "vi": "Vietnamese",
    "yi": "Yiddish",
    "zh": "Chinese",
}
INSURANCE_NAMES = {
    "bcbs": "Blue Cross Blue Shield",
    "self-pay": "Self-pay",
    "united": "UnitedHealthcare",
    "tricare": "TRICARE",
    "va": "VA Community Care",
}


def vocabulary_name(slug: str) -> str:
    """The name given to a specialty or insurance slug the directory has not seen yet."""
    return INSURANCE_NAMES.get(slug) or slug.replace("-", " ").title()


def language_name(code: str) -> str:
    base = code.split("-", 1)[0].lower()
    name = LANGUAGE_NAMES.get(code) or LANGUAGE_NAMES.get(base)
    if name is None:
        return code
    return name if base == code else f"{name} ({code})"


class DirectoryInvalid(DomainError):
    """The document has errors; `errors` lists them all, in document order."""

    def __init__(self, errors: list[dict[str, str]]) -> None:
        fields: dict[str, str] = {}
        for error in errors:
            path, message = error["path"], error["message"]
            fields[path] = f"{fields[path]}; {message}" if path in fields else message
        count = len(errors)
        super().__init__(
            "invalid_directory",
            f"The directory has {count} error{'s' if count != 1 else ''}; nothing was imported.",
            fields=fields,
        )
        self.errors = errors


@dataclass
class ServiceSpec:
    slug: str
    position: int
    values: dict[str, Any]


@dataclass
class ProviderSpec:
    slug: str
    values: dict[str, Any]
    licensed_states: list[str]
    specialties: list[str] | None = None
    languages: list[str] | None = None
    insurance: list[str] | None = None
    services: list[ServiceSpec] | None = None
    weekly_hours: list[tuple[int, time, time]] | None = None
    overrides: list[tuple[date, list[dict[str, str]]]] | None = None
    time_off: list[tuple[datetime, datetime, str]] | None = None


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


def parse_windows(windows: Any) -> list[tuple[time, time]]:
    """Parse [{"start": "HH:MM", "end": "HH:MM"}, ...]; raise ValueError naming the problem."""
    if not isinstance(windows, list):
        raise ValueError("must be a list of {start, end}")
    parsed: list[tuple[time, time]] = []
    for index, window in enumerate(windows):
        if not isinstance(window, dict):
            raise ValueError(f"[{index}]: must be an object with start and end")
        try:
            start = time.fromisoformat(window["start"])
            end = time.fromisoformat(window["end"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"[{index}]: start and end must be HH:MM") from exc
        if end <= start:
            raise ValueError(f"[{index}].end: must be after start")
        parsed.append((start, end))
    parsed.sort()
    for (_, prev_end), (next_start, _) in zip(parsed, parsed[1:], strict=False):
        if next_start < prev_end:
            raise ValueError("windows overlap")
    return parsed


class _Validator:
    """Walks the document once, collecting every error with its path."""

    def __init__(self) -> None:
        self.errors: list[dict[str, str]] = []

    def error(self, path: str, message: str) -> None:
        self.errors.append({"path": path, "message": message})

    # -- small typed readers; each returns None after recording an error -------------------

    def unknown_keys(self, obj: dict[str, Any], allowed: frozenset[str], path: str) -> None:
        for key in obj:
            if key not in allowed:
                where = f"{path}.{key}" if path else str(key)
                self.error(where, "unknown field")

    def string(
        self, obj: dict[str, Any], key: str, path: str, *, required: bool = False
    ) -> str | None:
        if key not in obj:
            if required:
                self.error(f"{path}.{key}", "required")
            return None
        value = obj[key]
        if not isinstance(value, str):
            self.error(f"{path}.{key}", "must be a string")
            return None
        value = value.strip()
        if required and not value:
            self.error(f"{path}.{key}", "must not be empty")
            return None
        limit = MAX_LENGTHS.get(key)
        if limit is not None and len(value) > limit:
            self.error(f"{path}.{key}", f"must be at most {limit} characters")
            return None
        return value

    def boolean(self, obj: dict[str, Any], key: str, path: str) -> bool | None:
        if key not in obj:
            return None
        value = obj[key]
        if not isinstance(value, bool):
            self.error(f"{path}.{key}", "must be true or false")
            return None
        return value

    def integer(self, obj: dict[str, Any], key: str, path: str, low: int, high: int) -> int | None:
        value = obj[key]
        # bool is an int in Python; `true` minutes is a mistake, not 1.
        if isinstance(value, bool) or not isinstance(value, int):
            self.error(f"{path}.{key}", f"must be a whole number from {low} to {high}")
            return None
        if not low <= value <= high:
            self.error(f"{path}.{key}", f"must be from {low} to {high}")
            return None
        return value

    def code_list(
        self,
        obj: dict[str, Any],
        key: str,
        path: str,
        *,
        check: Callable[[str], bool],
        what: str,
        required: bool = False,
    ) -> list[str] | None:
        """A list of unique codes, each accepted by `check`; None if absent or invalid."""
        if key not in obj:
            if required:
                self.error(f"{path}.{key}", "required")
            return None
        value = obj[key]
        if not isinstance(value, list):
            self.error(f"{path}.{key}", f"must be a list of {what}")
            return None
        if required and not value:
            self.error(f"{path}.{key}", "must list at least one")
            return None
        ok = True
        seen: dict[str, int] = {}
        for index, item in enumerate(value):
            where = f"{path}.{key}[{index}]"
            if not isinstance(item, str) or not check(item):
                self.error(where, f"{item!r} is not {what}")
                ok = False
            elif item in seen:
                self.error(where, f"{item!r} is listed twice (also {key}[{seen[item]}])")
                ok = False
            else:
                seen[item] = index
        return list(value) if ok else None

    def windows(self, value: Any, path: str, label: str) -> list[tuple[int, time, time]] | None:
        """Windows {start, end} at `path`; returns (index, start, end), overlaps checked."""
        if not isinstance(value, list):
            self.error(path, "must be a list of {start, end}")
            return None
        parsed: list[tuple[int, time, time]] = []
        ok = True
        for index, window in enumerate(value):
            where = f"{path}[{index}]"
            if not isinstance(window, dict):
                self.error(where, "must be an object with start and end")
                ok = False
                continue
            self.unknown_keys(window, frozenset({"start", "end"}), where)
            bounds = self.start_end(window, where)
            if bounds is None:
                ok = False
                continue
            parsed.append((index, *bounds))
        self.overlaps(parsed, path, label)
        return parsed if ok else None

    def start_end(self, window: dict[str, Any], path: str) -> tuple[time, time] | None:
        start = self.clock(window, "start", path)
        end = self.clock(window, "end", path)
        if start is None or end is None:
            return None
        if end <= start:
            self.error(f"{path}.end", "must be after start")
            return None
        return start, end

    def clock(self, obj: dict[str, Any], key: str, path: str) -> time | None:
        if key not in obj:
            self.error(f"{path}.{key}", "required")
            return None
        value = obj[key]
        if not isinstance(value, str) or not TIME_RE.match(value):
            self.error(f"{path}.{key}", f"{value!r} is not a time HH:MM (00:00 to 23:59)")
            return None
        return time.fromisoformat(value)

    def overlaps(
        self, windows: list[tuple[int, time, time]], path: str, label: str, day: str = ""
    ) -> None:
        """Report each window that starts before an earlier-starting one has ended."""
        ordered = sorted(windows, key=lambda w: (w[1], w[2]))
        latest: tuple[int, time, time] | None = None
        for window in ordered:
            index, start, end = window
            if latest is not None and start < latest[2]:
                self.error(
                    f"{path}[{index}]",
                    f"overlaps {label}[{latest[0]}] ({day}{latest[1]:%H:%M}-{latest[2]:%H:%M})",
                )
            if latest is None or end > latest[2]:
                latest = window

    # -- the document -----------------------------------------------------------------------

    def document(self, document: Any) -> list[ProviderSpec]:
        if not isinstance(document, dict):
            self.error("document", 'must be an object {"providers": [...]}')
            return []
        self.unknown_keys(document, TOP_LEVEL_FIELDS, "")
        providers = document.get("providers")
        if "providers" not in document:
            self.error("providers", "required")
            return []
        if not isinstance(providers, list):
            self.error("providers", "must be a list of providers")
            return []

        first_index: dict[str, int] = {}
        for index, item in enumerate(providers):
            slug = item.get("slug") if isinstance(item, dict) else None
            if isinstance(slug, str) and SLUG_RE.match(slug):
                if slug in first_index:
                    self.error(
                        f"{slug}.slug",
                        f"duplicate slug: providers[{first_index[slug]}] and "
                        f"providers[{index}] both use it",
                    )
                else:
                    first_index[slug] = index

        specs: list[ProviderSpec] = []
        for index, item in enumerate(providers):
            spec = self.provider(item, index)
            if spec is not None:
                specs.append(spec)
        return specs

    def provider(self, item: Any, index: int) -> ProviderSpec | None:
        if not isinstance(item, dict):
            self.error(f"providers[{index}]", "must be an object")
            return None
        before = len(self.errors)
        raw_slug = item.get("slug")
        path = (
            raw_slug
            if isinstance(raw_slug, str) and SLUG_RE.match(raw_slug)
            else f"providers[{index}]"
        )

        for key in REQUIRED_PROVIDER_FIELDS:
            if key not in item:
                self.error(f"{path}.{key}", "required")
        self.unknown_keys(item, PROVIDER_FIELDS, path)

        if "slug" in item and path != raw_slug:
            self.error(
                f"{path}.slug",
                f"{raw_slug!r} is not a slug (lowercase letters, digits and single hyphens)",
            )
        elif isinstance(raw_slug, str) and len(raw_slug) > 80:
            self.error(f"{path}.slug", "must be at most 80 characters")

        values: dict[str, Any] = {}
        for key in ("name", "credentials", "bio", "email"):
            value = self.string(item, key, path, required=key == "name")
            if value is not None:
                values[key] = value
        if "email" in values and values["email"]:
            try:
                validate_email(values["email"])
            except ValidationError:
                self.error(f"{path}.email", f"{values['email']!r} is not an email address")

        kind = item.get("kind")
        if "kind" in item:
            if kind in KINDS:
                values["kind"] = kind
            else:
                self.error(f"{path}.kind", f"{kind!r} is not one of {', '.join(KINDS)}")

        zone = item.get("timezone")
        if "timezone" in item:
            if isinstance(zone, str) and "/" in zone and is_timezone(zone):
                values["timezone"] = zone
            else:
                self.error(
                    f"{path}.timezone",
                    f"{zone!r} is not an IANA time zone such as America/Chicago",
                )

        accepting = self.boolean(item, "accepting_new_patients", path)
        if accepting is not None:
            values["accepting_new_patients"] = accepting

        modalities = self.code_list(
            item, "modalities", path, check=lambda m: m in MODALITIES, what="video or phone"
        )
        if modalities is not None:
            if not modalities:
                self.error(f"{path}.modalities", "must list at least one of video, phone")
            values["offers_video"] = "video" in modalities
            values["offers_phone"] = "phone" in modalities

        states = self.code_list(
            item,
            "licensed_states",
            path,
            check=is_state,
            what="a USPS state code such as NY",
            required=True,
        )
        spec = ProviderSpec(slug=path, values=values, licensed_states=states or [])
        spec.specialties = self.code_list(
            item, "specialties", path, check=_is_slug, what="a slug such as opioid-use-disorder"
        )
        spec.insurance = self.code_list(
            item, "insurance", path, check=_is_slug, what="a slug such as medicaid"
        )
        spec.languages = self.code_list(
            item, "languages", path, check=_is_language, what="a language code such as en or es"
        )
        if "services" in item:
            spec.services = self.services(item["services"], f"{path}.services")
        if "weekly_hours" in item:
            spec.weekly_hours = self.weekly_hours(item["weekly_hours"], f"{path}.weekly_hours")
        if "overrides" in item:
            spec.overrides = self.overrides(item["overrides"], f"{path}.overrides")
        if "time_off" in item:
            spec.time_off = self.time_off(item["time_off"], f"{path}.time_off")
        return spec if len(self.errors) == before else None

    def services(self, value: Any, path: str) -> list[ServiceSpec] | None:
        if not isinstance(value, list):
            self.error(path, "must be a list of services")
            return None
        specs: list[ServiceSpec] = []
        seen: dict[str, int] = {}
        for index, item in enumerate(value):
            where = f"{path}[{index}]"
            if not isinstance(item, dict):
                self.error(where, "must be an object")
                continue
            self.unknown_keys(item, SERVICE_FIELDS, where)
            slug = self.string(item, "slug", where, required=True)
            if slug is not None:
                if not SLUG_RE.match(slug) or len(slug) > 80:
                    self.error(f"{where}.slug", f"{slug!r} is not a slug")
                elif slug in seen:
                    self.error(
                        f"{where}.slug",
                        f"duplicate service slug {slug!r} (also services[{seen[slug]}])",
                    )
                else:
                    seen[slug] = index
            values: dict[str, Any] = {}
            name = self.string(item, "name", where, required=True)
            if name is not None:
                values["name"] = name
            if "duration_minutes" not in item:
                self.error(f"{where}.duration_minutes", "required")
            for key, (low, high) in SERVICE_NUMBERS.items():
                if key in item:
                    number = self.integer(item, key, where, low, high)
                    if number is not None:
                        values[key] = number
            approval = self.boolean(item, "requires_approval", where)
            if approval is not None:
                values["requires_approval"] = approval
            if slug is not None:
                specs.append(ServiceSpec(slug=slug, position=index, values=values))
        return specs

    def weekly_hours(self, value: Any, path: str) -> list[tuple[int, time, time]] | None:
        if not isinstance(value, list):
            self.error(path, "must be a list of {weekday, start, end}")
            return None
        by_day: dict[int, list[tuple[int, time, time]]] = {}
        ok = True
        for index, item in enumerate(value):
            where = f"{path}[{index}]"
            if not isinstance(item, dict):
                self.error(where, "must be an object with weekday, start and end")
                ok = False
                continue
            self.unknown_keys(item, frozenset({"weekday", "start", "end"}), where)
            weekday = item.get("weekday")
            day: int | None = None
            if "weekday" not in item:
                self.error(f"{where}.weekday", "required")
            elif weekday not in WEEKDAYS:
                self.error(f"{where}.weekday", f"{weekday!r} is not one of {', '.join(WEEKDAYS)}")
            else:
                day = WEEKDAYS.index(weekday)
            bounds = self.start_end(item, where)
            if day is None or bounds is None:
                ok = False
                continue
            by_day.setdefault(day, []).append((index, *bounds))
        rows: list[tuple[int, time, time]] = []
        for day, windows in by_day.items():
            self.overlaps(windows, path, "weekly_hours", day=f"{WEEKDAYS[day]} ")
            rows.extend((day, start, end) for _, start, end in windows)
        return rows if ok else None

    def overrides(self, value: Any, path: str) -> list[tuple[date, list[dict[str, str]]]] | None:
        if not isinstance(value, list):
            self.error(path, "must be a list of {date, windows}")
            return None
        rows: list[tuple[date, list[dict[str, str]]]] = []
        seen: dict[date, int] = {}
        ok = True
        for index, item in enumerate(value):
            where = f"{path}[{index}]"
            if not isinstance(item, dict):
                self.error(where, "must be an object with date and windows")
                ok = False
                continue
            self.unknown_keys(item, frozenset({"date", "windows"}), where)
            day = self.day(item, "date", where)
            if day is not None:
                if day in seen:
                    self.error(
                        f"{where}.date", f"{day} is listed twice (also overrides[{seen[day]}])"
                    )
                    day = None
                else:
                    seen[day] = index
            if "windows" not in item:
                self.error(f"{where}.windows", "required ([] means closed all day)")
                ok = False
                continue
            windows = self.windows(item["windows"], f"{where}.windows", "windows")
            if day is None or windows is None:
                ok = False
                continue
            rows.append(
                (
                    day,
                    [
                        {"start": f"{start:%H:%M}", "end": f"{end:%H:%M}"}
                        for _, start, end in sorted(windows, key=lambda w: w[1])
                    ],
                )
            )
        return rows if ok else None

    def day(self, obj: dict[str, Any], key: str, path: str) -> date | None:
        if key not in obj:
            self.error(f"{path}.{key}", "required")
            return None
        value = obj[key]
        if isinstance(value, str) and DATE_RE.match(value):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        self.error(f"{path}.{key}", f"{value!r} is not a date YYYY-MM-DD")
        return None

    def time_off(self, value: Any, path: str) -> list[tuple[datetime, datetime, str]] | None:
        if not isinstance(value, list):
            self.error(path, "must be a list of {start, end}")
            return None
        rows: list[tuple[datetime, datetime, str]] = []
        ok = True
        for index, item in enumerate(value):
            where = f"{path}[{index}]"
            if not isinstance(item, dict):
                self.error(where, "must be an object with start and end")
                ok = False
                continue
            self.unknown_keys(item, frozenset({"start", "end", "note"}), where)
            start = self.instant(item, "start", where)
            end = self.instant(item, "end", where)
            note = self.string(item, "note", where)
            if start is None or end is None:
                ok = False
                continue
            if end <= start:
                self.error(f"{where}.end", "must be after start")
                ok = False
                continue
            rows.append((start, end, note or ""))
        return rows if ok else None

    def instant(self, obj: dict[str, Any], key: str, path: str) -> datetime | None:
        if key not in obj:
            self.error(f"{path}.{key}", "required")
            return None
        value = obj[key]
        parsed: datetime | None = None
        if isinstance(value, str) and "T" in value:
            try:
                parsed = datetime.fromisoformat(value)
            except ValueError:
                parsed = None
        if parsed is None:
            self.error(
                f"{path}.{key}",
                f"{value!r} is not an ISO datetime such as 2026-12-30T00:00:00-05:00",
            )
            return None
        if parsed.tzinfo is None or parsed.utcoffset() is None:
            self.error(
                f"{path}.{key}",
                f"{value!r} has no UTC offset; write it like 2026-12-30T00:00:00-05:00",
            )
            return None
        return parsed


def _is_slug(value: str) -> bool:
    return bool(SLUG_RE.match(value)) and len(value) <= 64


def _is_language(value: str) -> bool:
    return bool(LANGUAGE_RE.match(value)) and len(value) <= 16


def validate_directory(document: Any) -> list[ProviderSpec]:
    """Check the whole document; raise DirectoryInvalid listing every error."""
    validator = _Validator()
    specs = validator.document(document)
    if validator.errors:
        raise DirectoryInvalid(validator.errors)
    return specs


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
    Provider.objects.bulk_create(created, batch_size=BATCH)
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
    if provider_ids:
        model.objects.filter(provider_id__in=provider_ids).delete()
    model.objects.bulk_create(rows, batch_size=BATCH)


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
    Service.objects.bulk_create(created, batch_size=BATCH)
    # Deactivated, never deleted: appointments reference services.
    retired = [s.pk for key, s in stored.items() if key not in keep and s.is_active]
    Service.objects.filter(pk__in=retired).update(is_active=False)
    summary.services_created = len(created)
    summary.services_updated = updated
    summary.services_deactivated = len(retired)
