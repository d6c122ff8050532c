"""Checking the directory document: every error collected, each with a path."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from common.errors import DomainError
from common.states import is_state
from common.timezones import is_timezone
from scheduling.directory.readers import ScheduleReader
from scheduling.models import ProviderKind

KINDS = tuple(kind.value for kind in ProviderKind)
MODALITIES = ("video", "phone")

# A photo is an image on this site or an https:// address: pages allow its origin for images.
PHOTO_RE = re.compile(r"^(?:https://[A-Za-z0-9.-]+(?::\d+)?/|/static/)[^\s\"'<>\\]*$")


def is_photo_url(value: str) -> bool:
    return bool(PHOTO_RE.match(value)) and ".." not in value


SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
LANGUAGE_RE = re.compile(r"^[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$")

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
        "intro",
        "photo_url",
        "credentials_on_private_pages",
        "email",
        "services",
        "weekly_hours",
        "overrides",
        "time_off",
    }
)
# name and licensed_states report their own absence.
REQUIRED_PROVIDER_FIELDS = ("slug", "kind", "timezone")
# The settings of a service besides its slug and name, in the order the export writes them.
SERVICE_SETTINGS = (
    "duration_minutes",
    "buffer_before_minutes",
    "buffer_after_minutes",
    "min_notice_hours",
    "horizon_days",
    "slot_step_minutes",
    "requires_approval",
    "capacity",
    "late_cancel_hours",
    "series_max_weeks",
    "open_to_all_states",
)
# Kinds whose groups are peer-led (no clinical care): they may be open to every state.
PEER_KINDS = frozenset({"peer_coach", "group_facilitator"})
SERVICE_FIELDS = frozenset({"slug", "name", *SERVICE_SETTINGS})
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
    # 0: single visits only; else the longest recurring series (every 2 weeks, 26 visits: 51).
    "series_max_weeks": (0, 52),
}


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


class _Validator(ScheduleReader):
    """Walks the document once, collecting every error with its path."""

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
        for key in ("name", "credentials", "bio", "intro", "photo_url", "email"):
            value = self.string(item, key, path, required=key == "name")
            if value is not None:
                values[key] = value
        if values.get("intro") and "\n" in values["intro"]:
            self.error(f"{path}.intro", "must be one line")
        if values.get("photo_url") and not is_photo_url(values["photo_url"]):
            self.error(
                f"{path}.photo_url",
                f"{values['photo_url']!r} is not an https:// address or a /static/ path",
            )
        shown = self.boolean(item, "credentials_on_private_pages", path)
        if shown is not None:
            values["credentials_on_private_pages"] = shown
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
            for index, service in enumerate(spec.services or []):
                if service.values.get("open_to_all_states") and kind not in PEER_KINDS:
                    self.error(
                        f"{path}.services[{index}].open_to_all_states",
                        "only a peer-led group (kind peer_coach or group_facilitator): "
                        "licensure applies to clinical groups",
                    )
        if "weekly_hours" in item:
            spec.weekly_hours = self.weekly_hours(item["weekly_hours"], f"{path}.weekly_hours")
        if "overrides" in item:
            spec.overrides = self.overrides(
                item["overrides"], f"{path}.overrides", zone=values.get("timezone")
            )
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
            weeks = values.get("series_max_weeks", 0)
            if weeks and values.get("capacity", 1) > 1:
                self.error(f"{where}.series_max_weeks", "a group session is not booked as a series")
            elif weeks and weeks * 7 > values.get("horizon_days", 60):
                self.error(
                    f"{where}.series_max_weeks",
                    f"needs horizon_days of at least {weeks * 7}: every visit is within the horizon",
                )
            approval = self.boolean(item, "requires_approval", where)
            if approval is not None:
                values["requires_approval"] = approval
            anywhere = self.boolean(item, "open_to_all_states", where)
            if anywhere and values.get("capacity", 1) < 2:
                self.error(f"{where}.open_to_all_states", "only a group session (capacity > 1)")
            elif anywhere is not None:
                values["open_to_all_states"] = anywhere
            if slug is not None:
                specs.append(ServiceSpec(slug=slug, position=index, values=values))
        return specs


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
