"""Checking the directory document: every error collected, each with a path."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from common.errors import DomainError
from common.timezones import is_timezone
from scheduling.models import ProviderKind
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
)
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
}
MAX_LENGTHS = {"name": 160, "credentials": 120, "bio": 5000, "email": 254, "note": 200}


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
        if value is None and not required:
            return ""  # exports often write null for an empty optional text
        if not isinstance(value, str):
            self.error(f"{path}.{key}", "must be a string")
            return None
        value = value.strip()
        if "\x00" in value:  # PostgreSQL text cannot hold NUL: refuse it here, not with a 500
            self.error(f"{path}.{key}", "must not contain NUL characters")
            return None
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
            elif not isinstance(weekday, str) or weekday.lower() not in WEEKDAYS:
                self.error(f"{where}.weekday", f"{weekday!r} is not one of {', '.join(WEEKDAYS)}")
            else:
                day = WEEKDAYS.index(weekday.lower())  # "Mon" is as clear as "mon"
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

    def overrides(
        self, value: Any, path: str, zone: str | None = None
    ) -> list[tuple[date, list[dict[str, str]]]] | None:
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
            if zone is not None and not self.exist_on(day, windows, zone, f"{where}.windows"):
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

    def exist_on(
        self, day: date, windows: list[tuple[int, time, time]], zone_name: str, path: str
    ) -> bool:
        """An override is for one date, so an edge the clocks skip that day is a mistake.

        (Weekly hours recur, so there the engine reads such an edge as slots.py documents.)
        """
        zone = ZoneInfo(zone_name)
        ok = True
        for index, start, end in windows:
            for key, clock in (("start", start), ("end", end)):
                wall = datetime.combine(day, clock, tzinfo=zone)
                if wall.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != wall.replace(
                    tzinfo=None
                ):
                    self.error(
                        f"{path}[{index}].{key}",
                        f"{clock:%H:%M} does not exist on {day} in {zone_name} "
                        "(the clocks skip it for daylight saving time)",
                    )
                    ok = False
        return ok

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
