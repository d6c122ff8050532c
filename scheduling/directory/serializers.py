"""Query parameters of the directory and slot endpoints, and the shapes they answer with.

The response serializers document the API schema; the views build plain dicts.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from rest_framework import serializers

from common.errors import DomainError
from common.states import is_state
from common.timezones import get_zone
from scheduling.directory.selectors import ProviderFilters
from scheduling.models import Insurance, Language, ProviderKind, Specialty

MAX_RANGE_DAYS = 62
DEFAULT_RANGE_DAYS = 14
MODALITIES = ("video", "phone")
_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no"}
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def parse_param(params: Mapping[str, Any], name: str) -> str | None:
    value = params.get(name)
    if value is None:
        return None
    value = str(value).strip()
    if "\x00" in value:  # PostgreSQL text cannot hold NUL; never let it reach a query
        raise DomainError(
            "invalid_parameter", f"{name} must not contain NUL characters.", fields={name: ""}
        )
    return value or None


def parse_state(value: str | None, field: str = "state") -> str | None:
    if value is None:
        return None
    code = value.upper()
    if not is_state(code):
        raise DomainError(
            "invalid_state", f"{value!r} is not a USPS state code.", fields={field: value}
        )
    return code


def _known(model: Any, field: str, value: str | None, code: str, param: str) -> str | None:
    if value is not None and not model.objects.filter(**{field: value}).exists():
        raise DomainError(code, f"Unknown {param} {value!r}.", fields={param: value})
    return value


def parse_search_params(params: Mapping[str, Any]) -> ProviderFilters:
    """Validate the directory filters; each bad one is a 400 with its own code."""
    kind = parse_param(params, "kind")
    if kind is not None and kind not in ProviderKind.values:
        raise DomainError(
            "invalid_kind",
            f"kind must be one of {', '.join(ProviderKind.values)}.",
            fields={"kind": kind},
        )
    modality = parse_param(params, "modality")
    if modality is not None:
        modality = modality.lower()
        if modality not in MODALITIES:
            raise DomainError(
                "invalid_modality",
                "modality must be video or phone.",
                fields={"modality": modality},
            )
    accepting_raw = parse_param(params, "accepting")
    accepting: bool | None = None
    if accepting_raw is not None:
        if accepting_raw.lower() in _TRUE:
            accepting = True
        elif accepting_raw.lower() in _FALSE:
            accepting = False
        else:
            raise DomainError(
                "invalid_boolean",
                "accepting must be true or false.",
                fields={"accepting": accepting_raw},
            )
    q = parse_param(params, "q")
    if q is not None and len(q) > 200:
        raise DomainError(
            "query_too_long", "q is limited to 200 characters.", fields={"q": q[:200]}
        )
    return ProviderFilters(
        specialty=_known(
            Specialty, "slug", parse_param(params, "specialty"), "unknown_specialty", "specialty"
        ),
        state=parse_state(parse_param(params, "state")),
        insurance=_known(
            Insurance, "slug", parse_param(params, "insurance"), "unknown_insurance", "insurance"
        ),
        language=_known(
            Language, "code", parse_param(params, "language"), "unknown_language", "language"
        ),
        modality=modality,
        kind=kind,
        accepting=accepting,
        q=q,
    )


def parse_date(value: str | None, field: str) -> date | None:
    if value is None:
        return None
    if not _DATE.fullmatch(value):
        raise DomainError(
            "invalid_date", f"{field} must be a date YYYY-MM-DD.", fields={field: value}
        )
    try:
        parsed = date.fromisoformat(value)
    except ValueError:
        raise DomainError(
            "invalid_date", f"{value!r} is not a date.", fields={field: value}
        ) from None
    # Far outside any booking horizon, and keeps zone arithmetic away from year 1 and 9999.
    if not 1970 <= parsed.year <= 2999:
        raise DomainError(
            "invalid_date", f"{field} must be between 1970 and 2999.", fields={field: value}
        )
    return parsed


@dataclass(frozen=True)
class SlotQuery:
    """A validated slot request: local dates [first, last] in `zone` and the UTC range."""

    zone: ZoneInfo
    first: date
    last: date
    service: str | None
    state: str | None

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time(0), tzinfo=self.zone)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.last + timedelta(days=1), time(0), tzinfo=self.zone)


def parse_slot_params(
    params: Mapping[str, Any], *, default_zone: str, today: datetime
) -> SlotQuery:
    """Validate tz, start, end (local dates, end inclusive), service and state."""
    zone = get_zone(parse_param(params, "tz") or default_zone)
    first = parse_date(parse_param(params, "start"), "start") or today.astimezone(zone).date()
    last = parse_date(parse_param(params, "end"), "end") or first + timedelta(
        days=DEFAULT_RANGE_DAYS - 1
    )
    if last < first:
        raise DomainError(
            "invalid_range", "end must not be before start.", fields={"end": str(last)}
        )
    if (last - first).days + 1 > MAX_RANGE_DAYS:  # both ends are days searched
        raise DomainError(
            "range_too_long",
            f"A slot search covers at most {MAX_RANGE_DAYS} days.",
            fields={"end": str(last)},
        )
    return SlotQuery(
        zone=zone,
        first=first,
        last=last,
        service=parse_param(params, "service"),
        state=parse_state(parse_param(params, "state")),
    )


# --- response shapes (schema only) -----------------------------------------------------------


class ProviderCardSerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    display_name = serializers.CharField()
    credentials = serializers.CharField()
    intro = serializers.CharField(help_text="one line about the provider; may be empty")
    photo_url = serializers.CharField(help_text="https:// address or /static/ path; may be empty")
    kind = serializers.ChoiceField(choices=ProviderKind.choices)
    timezone = serializers.CharField()
    licensed_states = serializers.ListField(child=serializers.CharField())
    specialties = serializers.ListField(child=serializers.CharField())
    languages = serializers.ListField(child=serializers.CharField())
    insurance = serializers.ListField(child=serializers.CharField())
    modalities = serializers.ListField(child=serializers.CharField())
    accepting_new_patients = serializers.BooleanField()
    next_available = serializers.DateTimeField(allow_null=True, help_text="UTC, first service")
    next_available_service = serializers.CharField(allow_null=True)


class ServiceSerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    duration_minutes = serializers.IntegerField()
    buffer_before_minutes = serializers.IntegerField()
    buffer_after_minutes = serializers.IntegerField()
    min_notice_hours = serializers.IntegerField()
    horizon_days = serializers.IntegerField()
    slot_step_minutes = serializers.IntegerField()
    requires_approval = serializers.BooleanField()
    capacity = serializers.IntegerField()
    is_group = serializers.BooleanField()
    series_max_weeks = serializers.IntegerField()
    open_to_all_states = serializers.BooleanField()
    next_available = serializers.DateTimeField(allow_null=True)


class WeeklyHoursSerializer(serializers.Serializer):
    weekday = serializers.CharField()
    start = serializers.CharField()
    end = serializers.CharField()


class ProviderProfileSerializer(ProviderCardSerializer):
    next_available = None  # type: ignore[assignment]
    next_available_service = None  # type: ignore[assignment]
    kind_label = serializers.CharField()
    bio = serializers.CharField()
    weekly_hours = WeeklyHoursSerializer(many=True)
    services = ServiceSerializer(many=True)


class SlotSerializer(serializers.Serializer):
    start = serializers.DateTimeField(help_text="ISO 8601 with the offset of tz")
    end = serializers.DateTimeField()
    seats_left = serializers.IntegerField(required=False, help_text="group services only")
