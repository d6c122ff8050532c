"""An external calendar's busy times: iCalendar bytes in, merged UTC intervals out (no ORM).

Recurrences (RRULE, RDATE, EXDATE, RECURRENCE-ID overrides) are expanded by
recurring-ical-events over [start, end). What blocks and how:
- `TRANSP:TRANSPARENT` ("show as free"), `STATUS:CANCELLED` and events the provider declined
  (an ATTENDEE with the provider's address and `PARTSTAT=DECLINED`) do not block;
- all-day and multi-day dates block whole days in the provider's zone, midnight to
  midnight by the wall clock (so a 23- or 25-hour day around a DST change);
- floating times (no zone) are the provider's wall clock;
- Outlook's Windows zone names (`Eastern Standard Time`) are read as the IANA zone
  icalendar's `windows_to_olson` table names, with or without a VTIMEZONE: the sender's
  VTIMEZONE for such a name is dropped before parsing (see `_trimmed`);
- an event with no length (a DTSTART-only reminder) blocks nothing.

Before parsing, `_trimmed` drops, as text, the one-off events that end days before the
window or start days after it: a calendar is mostly history, and icalendar parses about a
thousand events a second. Anything recurring (RRULE, RDATE, RECURRENCE-ID) or not plainly
dated stays. Two days' margin covers every zone's offset from the dates as written.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events
from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

Interval = tuple[datetime, datetime]


class CalendarUnreadable(ValueError):
    """The bytes are not an iCalendar file we can expand."""


_UNFOLD = re.compile(rb"\r?\n[ \t]")
_VEVENT = re.compile(rb"^BEGIN:VEVENT\r?$.*?^END:VEVENT\r?\n?", re.DOTALL | re.MULTILINE)
_VTIMEZONE = re.compile(rb"^BEGIN:VTIMEZONE\r?$.*?^END:VTIMEZONE\r?\n?", re.DOTALL | re.MULTILINE)
_TZID = re.compile(rb"^TZID:([^\r\n]*)", re.MULTILINE)
_DATED = re.compile(rb"^(DTSTART|DTEND)(?:;[^\r\n]*)?:(\d{8})", re.MULTILINE | re.IGNORECASE)
_RECURS = re.compile(rb"^(RRULE|RDATE|EXRULE|RECURRENCE-ID|DURATION)[;:]", re.MULTILINE | re.I)
_MARGIN = timedelta(days=2)
# icalendar caches a VTIMEZONE under its TZID for the whole process (the first calendar's
# definition would serve every later one) and evaluates it from its 1601 DTSTART on each
# lookup; for a Windows name the IANA zone is both right and fast.
_WINDOWS_NAMES = frozenset(name.encode() for name in WINDOWS_TO_OLSON)


def _trimmed(body: bytes, start: datetime, end: datetime) -> bytes:
    """The calendar without what cannot matter in [start, end), as text (see the docstring)."""
    body = _UNFOLD.sub(b"", body)
    low = (start - _MARGIN).strftime("%Y%m%d").encode()
    high = (end + _MARGIN).strftime("%Y%m%d").encode()

    def event(match: re.Match[bytes]) -> bytes:
        text = match.group(0)
        if _RECURS.search(text):
            return text
        dates = {name.upper(): day for name, day in _DATED.findall(text)}
        first = dates.get(b"DTSTART")
        if first is None:
            return text
        last = dates.get(b"DTEND", first)
        return b"" if last < low or first > high else text

    return _VTIMEZONE.sub(_no_windows_zone, _VEVENT.sub(event, body))


def _no_windows_zone(match: re.Match[bytes]) -> bytes:
    tzid = _TZID.search(match.group(0))
    windows = tzid is not None and tzid.group(1).strip().strip(b"/") in _WINDOWS_NAMES
    return b"" if windows else match.group(0)


def _instant(value: date | datetime, zone: ZoneInfo) -> datetime:
    if not isinstance(value, datetime):
        value = datetime.combine(value, time(0))
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    return value.astimezone(UTC)


def _declined(event: icalendar.cal.Component, email: str) -> bool:
    if not email:
        return False
    attendees = event.get("ATTENDEE", [])
    if not isinstance(attendees, list):
        attendees = [attendees]
    wanted = email.strip().lower()
    for attendee in attendees:
        address = str(attendee).strip().lower().removeprefix("mailto:")
        if address == wanted:
            return str(attendee.params.get("PARTSTAT", "")).upper() == "DECLINED"
    return False


def blocks(event: icalendar.cal.Component, email: str = "") -> bool:
    """Whether this (expanded) event makes the provider busy."""
    if str(event.get("TRANSP", "OPAQUE")).upper() == "TRANSPARENT":
        return False
    if str(event.get("STATUS", "")).upper() == "CANCELLED":
        return False
    return not _declined(event, email)


def _span(event: icalendar.cal.Component, zone: ZoneInfo) -> Interval | None:
    properties: dict[str, Any] = dict(event)
    start_value = properties["DTSTART"].dt
    if "DTEND" in properties:
        end_value = properties["DTEND"].dt
    elif "DURATION" in properties:
        end_value = start_value + properties["DURATION"].dt
    elif not isinstance(start_value, datetime):
        end_value = start_value + timedelta(days=1)
    else:
        return None
    start, end = _instant(start_value, zone), _instant(end_value, zone)
    return (start, end) if end > start else None


def merged(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted, with overlapping and touching intervals joined."""
    out: list[Interval] = []
    for start, end in sorted(intervals):
        if out and start <= out[-1][1]:
            if end > out[-1][1]:
                out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return out


def joined(bodies: Iterable[bytes | str]) -> icalendar.Calendar:
    """One calendar holding the events of many (a CalDAV calendar answers one resource per
    event UID, each with its own VTIMEZONEs); raises CalendarUnreadable."""
    out = icalendar.Calendar()
    out.add("PRODID", "-//Bridgeway//busy//EN")
    out.add("VERSION", "2.0")
    zones: set[str] = set()
    try:
        for body in bodies:
            text = body.encode() if isinstance(body, str) else body
            text = _VTIMEZONE.sub(_no_windows_zone, _UNFOLD.sub(b"", text))
            parsed = icalendar.Calendar.from_ical(text)
            for component in parsed.subcomponents:
                if component.name == "VTIMEZONE":
                    tzid = str(component.get("TZID", ""))
                    if tzid in zones:
                        continue
                    zones.add(tzid)
                if component.name in ("VTIMEZONE", "VEVENT"):
                    out.add_component(component)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise CalendarUnreadable("The calendar file does not parse as iCalendar.") from exc
    return out


def busy_intervals(
    body: bytes | icalendar.Calendar,
    *,
    zone: ZoneInfo,
    start: datetime,
    end: datetime,
    email: str = "",
) -> list[Interval]:
    """Merged busy intervals in UTC that overlap [start, end); raises CalendarUnreadable."""
    try:
        calendar = (
            body
            if isinstance(body, icalendar.Calendar)
            else icalendar.Calendar.from_ical(_trimmed(body, start, end))
        )
        events = recurring_ical_events.of(calendar).between(
            start.astimezone(zone), end.astimezone(zone)
        )
        found = []
        for event in events:
            if not blocks(event, email):
                continue
            span = _span(event, zone)
            if span is not None and span[1] > start and span[0] < end:
                found.append(span)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise CalendarUnreadable("The calendar file does not parse as iCalendar.") from exc
    return merged(found)
