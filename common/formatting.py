"""How people and times are written for people: short names, initials, and wall-clock times
with the zone's abbreviation ("Tue Mar 10, 9:00 AM CDT"). One home, so a page, a text and a
calendar entry never disagree."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.utils import translation

from common.timezones import get_zone

# Spanish names written out here rather than through the C locale, which a server may lack.
ES_DAYS = ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo")
ES_DAYS_SHORT = ("lun", "mar", "mié", "jue", "vie", "sáb", "dom")
ES_MONTHS = (
    "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre"
).split()


def get_language_code() -> str:
    """'es' or 'en': the active language, for the few formats that differ."""
    return "es" if (translation.get_language() or "").startswith("es") else "en"


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
    if get_language_code() == "es":
        return f"{local.hour % 12 or 12}:{local:%M} {'a. m.' if local.hour < 12 else 'p. m.'}"
    return f"{local.hour % 12 or 12}:{local:%M %p}"


def format_time(moment: datetime, zone: ZoneInfo | str) -> str:
    """'9:00 AM' in the zone."""
    return _clock(moment.astimezone(_zone(zone)))


def format_when(moment: datetime, zone: ZoneInfo | str) -> str:
    """'Tue Mar 10, 9:00 AM CDT': the reader's wall clock with the zone's abbreviation."""
    local = moment.astimezone(_zone(zone))
    if get_language_code() == "es":
        day = f"{ES_DAYS_SHORT[local.weekday()]} {local.day} de {ES_MONTHS[local.month - 1]}"
        return f"{day}, {_clock(local)} {zone_abbreviation(local)}".strip()
    return f"{local:%a %b} {local.day}, {_clock(local)} {zone_abbreviation(local)}".strip()


def format_day(day: date) -> str:
    """'Tuesday, March 10' ('martes 10 de marzo')."""
    if get_language_code() == "es":
        return f"{ES_DAYS[day.weekday()]} {day.day} de {ES_MONTHS[day.month - 1]}"
    return f"{day:%A, %B} {day.day}"


def format_weekday(day: date) -> str:
    """'Tue' ('mar')."""
    return ES_DAYS_SHORT[day.weekday()] if get_language_code() == "es" else f"{day:%a}"


def format_week(first: date, last: date) -> str:
    """'10–16 de marzo' or '30 de marzo – 5 de abril' (Spanish; English pages build their own)."""
    if first.month == last.month:
        return f"{first.day}–{last.day} de {ES_MONTHS[last.month - 1]}"
    return (
        f"{first.day} de {ES_MONTHS[first.month - 1]} – {last.day} de {ES_MONTHS[last.month - 1]}"
    )
