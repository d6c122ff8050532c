"""Read calendar output with two independent parsers (icalendar and vobject), strictly."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import icalendar
import vobject
from dateutil.rrule import rrulestr


@dataclass
class Parsed:
    raw: bytes
    ical: icalendar.Calendar
    vobj: Any  # vobject's VCALENDAR component

    def ical_events(self) -> list[icalendar.Event]:
        return list(self.ical.walk("VEVENT"))

    def vobj_events(self) -> list[Any]:
        return list(self.vobj.contents.get("vevent", []))

    def ical_event(self, uid: str) -> icalendar.Event:
        (event,) = [e for e in self.ical_events() if str(e["UID"]) == uid]
        return event

    def vobj_event(self, uid: str) -> Any:
        (event,) = [e for e in self.vobj_events() if e.uid.value == uid]
        return event


def check_lines(raw: bytes) -> None:
    """RFC 5545 3.1: CRLF after every line, no line longer than 75 octets."""
    assert raw.endswith(b"\r\n")
    assert b"\n" not in raw.replace(b"\r\n", b""), "bare LF"
    assert b"\r" not in raw.replace(b"\r\n", b""), "bare CR"
    for line in raw.split(b"\r\n"):
        assert len(line) <= 75, f"line of {len(line)} octets: {line!r}"
        line.decode("utf-8")  # folding never splits a character


# vobject keeps the first VTIMEZONE it ever read for a TZID, for the whole process, and
# reads every later file's times with it: one invite's VTIMEZONE (covering its own year)
# would then decide another file's 2027 offsets. A calendar reads each file on its own.
_VOBJECT_ZONES: dict[str, Any] = vars(vobject.icalendar)["__tzidMap"]


def parse(raw: bytes) -> Parsed:
    """Parse with both libraries after checking line structure; both must succeed."""
    check_lines(raw)
    for tzid in [name for name in _VOBJECT_ZONES if name != "UTC"]:
        del _VOBJECT_ZONES[tzid]
    ical = icalendar.Calendar.from_ical(raw)
    assert not ical.errors
    for component in ical.walk():
        assert not component.errors, component.errors
    vobj = vobject.readOne(raw.decode("utf-8"), validate=True)
    assert vobj.name == "VCALENDAR"
    return Parsed(raw=raw, ical=ical, vobj=vobj)


def unfolded_lines(raw: bytes) -> list[str]:
    return raw.decode("utf-8").replace("\r\n ", "").replace("\r\n\t", "").split("\r\n")


def expand_with_recurring_ical_events(raw: bytes) -> list[datetime]:
    """The third reader: recurring-ical-events (what calendar servers and our own external
    calendar sync use), over a window wide enough for any series."""
    import recurring_ical_events

    calendar = icalendar.Calendar.from_ical(raw)
    window = (datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))
    events = recurring_ical_events.of(calendar).between(*window)
    return sorted(e.decoded("DTSTART").astimezone(UTC) for e in events)


def expand_series(raw: bytes) -> tuple[list[datetime], list[datetime]]:
    """The instants (UTC, sorted) a series invite stands for, read by each parser alone.

    icalendar's values expanded with dateutil's rrule; vobject's own rruleset (which reads
    the offsets from the VTIMEZONE). Both drop EXDATEs; RECURRENCE-ID VEVENTs replace the
    instance they name.
    """
    parsed = parse(raw)
    events = parsed.ical_events()
    (master,) = [e for e in events if "RECURRENCE-ID" not in e]
    start = master.decoded("DTSTART")
    rule = rrulestr(master["RRULE"].to_ical().decode(), dtstart=start)
    excluded = master.get("EXDATE", [])
    excluded = excluded if isinstance(excluded, list) else [excluded]
    gone = {d.dt.astimezone(UTC) for group in excluded for d in group.dts}
    moved = {
        e.decoded("RECURRENCE-ID").astimezone(UTC): e.decoded("DTSTART").astimezone(UTC)
        for e in events
        if "RECURRENCE-ID" in e
    }
    by_ical = sorted(
        moved.get(s.astimezone(UTC), s.astimezone(UTC))
        for s in rule
        if s.astimezone(UTC) not in gone
    )
    (vmaster,) = [e for e in parsed.vobj_events() if not hasattr(e, "recurrence_id")]
    vmoved = {
        e.recurrence_id.value.astimezone(UTC): e.dtstart.value.astimezone(UTC)
        for e in parsed.vobj_events()
        if hasattr(e, "recurrence_id")
    }
    by_vobject = sorted(
        vmoved.get(s.astimezone(UTC), s.astimezone(UTC)) for s in vmaster.getrruleset(True)
    )
    return by_ical, by_vobject
