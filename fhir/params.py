"""Reading what FHIR clients send: search parameters, references, contained patients and
update bodies (a whole resource, a partial one, or a JSON Patch of `replace`/`add` ops)."""

from __future__ import annotations

import copy
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from common.errors import DomainError

DATE_PREFIXES = ("eq", "ne", "gt", "lt", "ge", "le", "sa", "eb", "ap")
DEFAULT_COUNT = 50
MAX_COUNT = 1000  # a month of one schedule's slots fits one page


def invalid(field: str, message: str, *, code: str = "invalid") -> DomainError:
    return DomainError(code, message, fields={field: [message]})


@dataclass(frozen=True)
class Page:
    count: int
    offset: int


def page_of(params: Mapping[str, Any]) -> Page:
    def number(name: str, default: int) -> int:
        raw = params.get(name)
        if raw in (None, ""):
            return default
        try:
            value = int(str(raw))
        except ValueError:
            raise invalid(name, f"{name} must be a whole number.") from None
        if value < 0:
            raise invalid(name, f"{name} must not be negative.")
        return value

    return Page(count=min(number("_count", DEFAULT_COUNT), MAX_COUNT), offset=number("_offset", 0))


@dataclass(frozen=True)
class DateRange:
    """[start, end) in UTC; either side may be open."""

    start: datetime | None = None
    end: datetime | None = None


def _moment(text: str, field: str) -> tuple[datetime, timedelta]:
    """A FHIR date or dateTime as (its first instant, its precision)."""
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            day = date.fromisoformat(text)
            return datetime.combine(day, time(0), tzinfo=UTC), timedelta(days=1)
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise invalid(field, f"{text!r} is not a FHIR date or dateTime.") from None
    if value.tzinfo is None:
        raise invalid(field, f"{text!r} needs a time zone offset (or Z).")
    return value.astimezone(UTC), timedelta(microseconds=1)


def date_range(values: list[str], field: str) -> DateRange:
    """Combine `field=ge…&field=lt…` (and gt, le, eq) into one range."""
    start: datetime | None = None
    end: datetime | None = None
    for raw in values:
        prefix, text = ("eq", raw)
        if raw[:2] in DATE_PREFIXES and not raw[:2].isdigit():
            prefix, text = raw[:2], raw[2:]
        moment, precision = _moment(text, field)
        if prefix == "ge":
            low, high = moment, None
        elif prefix == "gt":
            low, high = moment + precision, None
        elif prefix == "lt":
            low, high = None, moment
        elif prefix == "le":
            low, high = None, moment + precision
        elif prefix == "eq":
            low, high = moment, moment + precision
        else:
            raise invalid(field, f"The {prefix} prefix is not supported; use ge, gt, lt, le or eq.")
        if low is not None:
            start = low if start is None else max(start, low)
        if high is not None:
            end = high if end is None else min(end, high)
    return DateRange(start, end)


def reference_id(value: Any, resource_type: str, field: str) -> str:
    """`Type/id` (or an absolute URL ending so, or a bare id) -> id."""
    if isinstance(value, dict):
        value = value.get("reference")
    if not isinstance(value, str) or not value:
        raise invalid(field, f"{field} must reference a {resource_type}.")
    parts = value.rstrip("/").split("/")
    if len(parts) == 1:
        return parts[0]
    if parts[-2] != resource_type:
        raise invalid(field, f"{field} must reference a {resource_type}.")
    return parts[-1]


def as_uuid(value: str) -> uuid.UUID | None:
    """An Appointment, ServiceRequest or Task id, or None when it cannot be one."""
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def token_code(value: str) -> str:
    """`system|code` or `code` -> code."""
    return value.split("|", 1)[-1]


def contained(resource: Mapping[str, Any], reference: str) -> dict[str, Any] | None:
    if not reference.startswith("#"):
        return None
    for item in resource.get("contained") or []:
        if isinstance(item, dict) and item.get("id") == reference[1:]:
            return item
    return None


@dataclass(frozen=True)
class PersonDetails:
    name: str
    phone: str
    email: str
    state: str
    timezone: str
    sms_consent: bool


def person_from_patient(
    patient: Mapping[str, Any], *, tz_url: str, consent_url: str
) -> PersonDetails:
    """A contained Patient's name, mobile phone, email, state (address) and zone (tz-code)."""
    if patient.get("resourceType") != "Patient":
        raise invalid("patient", "The patient must be a contained Patient resource.")
    names = patient.get("name") or [{}]
    name = (
        names[0].get("text")
        or " ".join([*(names[0].get("given") or []), names[0].get("family") or ""]).strip()
    )
    telecom = patient.get("telecom") or []
    phone = next((t.get("value", "") for t in telecom if t.get("system") in ("phone", "sms")), "")
    email = next((t.get("value", "") for t in telecom if t.get("system") == "email"), "")
    state = next((a.get("state", "") for a in patient.get("address") or [] if a.get("state")), "")
    extensions = patient.get("extension") or []
    zone = next((e.get("valueCode", "") for e in extensions if e.get("url") == tz_url), "")
    consent = next(
        (e.get("valueBoolean") for e in extensions if e.get("url") == consent_url), False
    )
    missing = [
        label
        for label, value in (
            ("Patient.name", name),
            ("Patient.telecom (phone)", phone),
            ("Patient.address.state", state),
            ("Patient.extension (tz-code)", zone),
        )
        if not value
    ]
    if missing:
        raise DomainError(
            "invalid",
            "The patient needs a name, a phone, a state and a time zone.",
            fields={"patient": [f"{m} is required." for m in missing]},
        )
    return PersonDetails(
        name=name, phone=phone, email=email, state=state, timezone=zone, sms_consent=consent is True
    )


def updated(current: dict[str, Any], body: Any) -> dict[str, Any]:
    """The resource as the client wants it: a whole resource (PUT), a partial one, or a
    JSON Patch list of `replace`/`add` operations on top-level elements."""
    if isinstance(body, list):
        result = copy.deepcopy(current)
        for op in body:
            if not isinstance(op, dict) or op.get("op") not in ("replace", "add"):
                raise invalid("patch", "Only replace and add operations are supported.")
            path = str(op.get("path", ""))
            if not re.fullmatch(r"/[A-Za-z]+", path):
                raise invalid("patch", f"Only top-level paths are supported, not {path!r}.")
            result[path[1:]] = op.get("value")
        return result
    if not isinstance(body, dict):
        raise invalid("body", "The body must be a FHIR resource or a JSON Patch.")
    if body.get("resourceType") not in (None, current["resourceType"]):
        raise invalid("resourceType", f"The body must be a {current['resourceType']}.")
    if body.get("id") not in (None, current["id"]):
        raise invalid("id", "The body's id must match the URL.")
    return {**current, **body}
