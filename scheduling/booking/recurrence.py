"""Pure rules of a recurring series: its instants and how a person's calendar reads them.

A series keeps the provider's wall clock: "Tuesdays at 6:00 PM" in New York is 23:00Z in
winter and 22:00Z in summer. Each instant is that wall time on the date `every_weeks`
weeks on, read as iCalendar reads a DTSTART with TZID and an RRULE (RFC 5545 3.3.5): a
repeated wall time is its first occurrence, a wall time in a spring gap keeps the offset
from before the gap. A patient whose zone keeps other rules (Phoenix, or abroad) sees the
time shift on the dates the two zones' offsets part or meet; the confirmation says when.
No ORM here: plain values in, plain values out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from common.formatting import format_time, zone_abbreviation


def rule_starts(first: datetime, zone: ZoneInfo, every_weeks: int, count: int) -> list[datetime]:
    """The series' `count` instants in UTC, keeping the wall clock of `first` in `zone`.

    Every instant, the first included, is the wall time read as a DTSTART with TZID is read.
    """
    wall = first.astimezone(zone).replace(tzinfo=None)
    starts = []
    for k in range(count):
        local = (wall + timedelta(weeks=every_weeks * k)).replace(tzinfo=zone, fold=0)
        starts.append(local.astimezone(UTC))
    return starts


@dataclass(frozen=True)
class Shift:
    """From `day` on (the reader's date), visits fall at `clock` on `weekday` in the reader's zone."""

    day: date
    weekday: str
    clock: str


def _plural_day(local: datetime) -> str:
    return f"{local:%A}s"


def _reading(moment: datetime, zone: ZoneInfo) -> tuple[str, str]:
    local = moment.astimezone(zone)
    return _plural_day(local), f"{format_time(moment, zone)} {zone_abbreviation(local)}"


def shifts(starts: list[datetime], zone: ZoneInfo) -> list[Shift]:
    """Where the reader's weekday or clock changes along the series (empty when it never does).

    Compared on the wall clock alone, so a change of abbreviation (EST to EDT) with the same
    local time is no shift: only a time that moves on the reader's calendar is one.
    """
    found: list[Shift] = []
    previous: tuple[int, int, int] | None = None
    for moment in starts:
        local = moment.astimezone(zone)
        key = (local.weekday(), local.hour, local.minute)
        if previous is not None and key != previous:
            weekday, clock = _reading(moment, zone)
            found.append(Shift(day=local.date(), weekday=weekday, clock=clock))
        previous = key
    return found


def describe(starts: list[datetime], every_weeks: int, zone: ZoneInfo) -> str:
    """'Weekly on Tuesdays at 6:00 PM EST, 12 visits from Dec 8' in the reader's zone."""
    weekday, clock = _reading(starts[0], zone)
    first = starts[0].astimezone(zone)
    how_often = "Weekly" if every_weeks == 1 else f"Every {every_weeks} weeks"
    return f"{how_often} on {weekday} at {clock}, {len(starts)} visits from {first:%b} {first.day}"


def _shift_text(shift: Shift, first_weekday: str) -> str:
    on = f" on {shift.weekday}" if shift.weekday != first_weekday else ""
    return f"From {shift.day:%b} {shift.day.day}: {shift.clock}{on}"


def describe_shifts(starts: list[datetime], zone: ZoneInfo) -> str:
    """'Your local time changes. From Mar 16: 1:00 PM MST.' (at most two shifts named)."""
    found = shifts(starts, zone)
    first_weekday = _reading(starts[0], zone)[0]
    parts = [_shift_text(s, first_weekday) for s in found[:2]]
    if not parts:
        return ""
    return "Your local time changes. " + "; ".join(parts) + ("; and later." if found[2:] else ".")


def describe_first_shift(starts: list[datetime], zone: ZoneInfo) -> str:
    """The first shift alone, for a text: 'From Mar 16: 1:00 PM MST.'."""
    found = shifts(starts, zone)
    return f"{_shift_text(found[0], _reading(starts[0], zone)[0])}." if found else ""
