"""Template filters for times shown to people: always in a named zone, with its abbreviation."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django import template

from common.formatting import format_time, format_when
from common.timezones import get_zone
from scheduling.web.trust import trust

register = template.Library()


def _zone(zone: ZoneInfo | str) -> ZoneInfo:
    return zone if isinstance(zone, ZoneInfo) else get_zone(str(zone))


@register.filter
def when(moment: datetime | None, zone: ZoneInfo | str) -> str:
    """{{ appointment.start|when:zone }} -> 'Tue Dec 8, 9:00 AM EST'."""
    if moment is None:
        return ""
    return format_when(moment, _zone(zone))


@register.filter
def clock(moment: datetime | None, zone: ZoneInfo | str) -> str:
    """{{ slot.start|clock:zone }} -> '9:00 AM'."""
    if moment is None:
        return ""
    return format_time(moment, _zone(zone))


@register.simple_tag
def debug_mode() -> bool:
    """True on development servers, where the SMS outbox page exists."""
    from django.conf import settings

    return bool(settings.DEBUG)


@register.filter
def words(value: object) -> str:
    """'patient_confirmed' -> 'patient confirmed'."""
    return str(value).replace("_", " ")


@register.simple_tag
def trust_notice() -> Any:
    """Who runs the service and how it uses the booker's details (scheduling.web.trust)."""
    return trust()
