"""Typed readers for the directory document: each reads one value at a path and, when it is
wrong, records an error with that path and returns None, so one pass collects every error."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
TIME_RE = re.compile(r"^(?:[01]\d|2[0-3]):[0-5]\d$")
MAX_LENGTHS = {
    "name": 160,
    "credentials": 120,
    "bio": 5000,
    "intro": 140,
    "photo_url": 500,
    "email": 254,
    "note": 200,
}
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class FieldReader:
    """Scalars, codes and instants, each read at a path with its error recorded."""

    def __init__(self) -> None:
        self.errors: list[dict[str, str]] = []

    def error(self, path: str, message: str) -> None:
        self.errors.append({"path": path, "message": message})

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

    def clock(self, obj: dict[str, Any], key: str, path: str) -> time | None:
        if key not in obj:
            self.error(f"{path}.{key}", "required")
            return None
        value = obj[key]
        if not isinstance(value, str) or not TIME_RE.match(value):
            self.error(f"{path}.{key}", f"{value!r} is not a time HH:MM (00:00 to 23:59)")
            return None
        return time.fromisoformat(value)

    def start_end(self, window: dict[str, Any], path: str) -> tuple[time, time] | None:
        start = self.clock(window, "start", path)
        end = self.clock(window, "end", path)
        if start is None or end is None:
            return None
        if end <= start:
            self.error(f"{path}.end", "must be after start")
            return None
        return start, end

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


class ScheduleReader(FieldReader):
    """Weekly hours, date overrides and time off: wall-clock windows that must not overlap."""

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
