"""How people and times are written for people: short names, initials, and wall-clock times
with the zone's abbreviation ("Tue Mar 10, 9:00 AM CDT"). One home, so a page, a text and a
calendar entry never disagree."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from common.timezones import get_zone


def short_name(name: str) -> str:
    """First name and last initial ('Dana W.'); a one-word name stays as it is."""
    parts = name.split()
    if len(parts) < 2:
        return name.strip()
    return f"{parts[0]} {parts[-1][0]}."


def initials(name: str) -> str:
    """'Alex Rivera' -> 'A.R.'; '?' when there is no name."""
    return "".join(f"{part[0]}." for part in name.split()) or "?"


def _zone(zone: ZoneInfo | str) -> ZoneInfo:
    return zone if isinstance(zone, ZoneInfo) else get_zone(zone)


def zone_abbreviation(local: datetime) -> str:
    """'CDT'; zones without a letter abbreviation read 'UTC+05' rather than a bare '+05'."""
    abbreviation = local.tzname() or ""
    return f"UTC{abbreviation}" if abbreviation[:1] in "+-" else abbreviation


def _clock(local: datetime) -> str:
    return f"{local.hour % 12 or 12}:{local:%M %p}"


def format_time(moment: datetime, zone: ZoneInfo | str) -> str:
    """'9:00 AM' in the zone."""
    return _clock(moment.astimezone(_zone(zone)))


def format_when(moment: datetime, zone: ZoneInfo | str) -> str:
    """'Tue Mar 10, 9:00 AM CDT': the reader's wall clock with the zone's abbreviation."""
    local = moment.astimezone(_zone(zone))
    return f"{local:%a %b} {local.day}, {_clock(local)} {zone_abbreviation(local)}".strip()


def format_day(day: date) -> str:
    """'Tuesday, March 10'."""
    return f"{day:%A, %B} {day.day}"
