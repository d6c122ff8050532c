"""An independent, brute-force reading of the slot rules, and a QA directory to check it on.

Deliberately naive: every UTC minute of the range is tried against every rule on its own
(zoneinfo for wall clocks, no sweep, no epoch arithmetic), so it shares no code and no
shortcut with scheduling.availability.slots. It follows the documented rules:

- windows are wall-clock times on a local date, read with fold=0 (datetime.combine);
  an override date replaces that date's weekly windows;
- a slot starts a whole number of steps after its window's start and ends inside it;
  a window never offers a start before the end of an earlier window of the day;
- start >= now + notice, start <= now + horizon, start in [range start, range end);
- [start - buffer_before, end + buffer_after) meets no time off and no active
  appointment's blocked time.
"""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
MINUTE = timedelta(minutes=1)


def _clock(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def reference_slots(
    provider: dict[str, Any],
    service_slug: str,
    *,
    first: date,
    last: date,
    tz: str,
    now: datetime,
    busy: list[tuple[datetime, datetime]] = (),  # type: ignore[assignment]
) -> list[tuple[str, str]]:
    """(start, end) ISO strings in `tz` for local dates first..last inclusive."""
    zone = ZoneInfo(provider["timezone"])
    shown = ZoneInfo(tz)
    service = next(s for s in provider["services"] if s["slug"] == service_slug)
    duration = timedelta(minutes=service["duration_minutes"])
    step = timedelta(minutes=service.get("slot_step_minutes", 30))
    before = timedelta(minutes=service.get("buffer_before_minutes", 0))
    after = timedelta(minutes=service.get("buffer_after_minutes", 0))
    notice = timedelta(hours=service.get("min_notice_hours", 24))
    horizon = timedelta(days=service.get("horizon_days", 60))

    range_start = datetime.combine(first, time(0), tzinfo=shown).astimezone(UTC)
    range_end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=shown).astimezone(UTC)

    overrides = {
        date.fromisoformat(o["date"]): [
            (_clock(w["start"]), _clock(w["end"])) for w in o["windows"]
        ]
        for o in provider.get("overrides", [])
    }
    weekly: dict[int, list[tuple[time, time]]] = {}
    for w in provider.get("weekly_hours", []):
        weekly.setdefault(WEEKDAYS.index(w["weekday"]), []).append(
            (_clock(w["start"]), _clock(w["end"]))
        )

    # Every window of every local date near the range, in UTC, in wall-clock order.
    windows: list[tuple[datetime, datetime]] = []
    day = first - timedelta(days=2)
    while day <= last + timedelta(days=2):
        for w_start, w_end in sorted(overrides.get(day, weekly.get(day.weekday(), []))):
            windows.append(
                (
                    datetime.combine(day, w_start, tzinfo=zone).astimezone(UTC),
                    datetime.combine(day, w_end, tzinfo=zone).astimezone(UTC),
                )
            )
        day += timedelta(days=1)

    blocked = [
        (
            datetime.fromisoformat(t["start"]).astimezone(UTC),
            datetime.fromisoformat(t["end"]).astimezone(UTC),
        )
        for t in provider.get("time_off", [])
    ] + [(a.astimezone(UTC), b.astimezone(UTC)) for a, b in busy]

    earlier_ends = [
        max((e for _, e in windows[:index]), default=ws) for index, (ws, _) in enumerate(windows)
    ]
    found: list[tuple[str, str]] = []
    t = range_start
    while t < range_end:
        ok_window = False
        for (ws, we), earlier_end in zip(windows, earlier_ends, strict=True):
            if (
                ws <= t
                and t + duration <= we
                and (t - ws) % step == timedelta(0)
                and t >= earlier_end
            ):
                ok_window = True
                break
        if (
            ok_window
            and t - now >= notice
            and t - now <= horizon
            and not any(a < t + duration + after and t - before < b for a, b in blocked)
        ):
            found.append(
                (t.astimezone(shown).isoformat(), (t + duration).astimezone(shown).isoformat())
            )
        t += MINUTE
    return found


def _service(slug: str, **numbers: Any) -> dict[str, Any]:
    return {"slug": slug, "name": slug.replace("-", " ").title(), **numbers}


# Five providers, one per zone, whose hours straddle both 2027 US changes (Mar 14, Nov 7).
QA_PROVIDERS: list[dict[str, Any]] = [
    {
        "slug": "qa-ny",
        "name": "Avery Northcott",
        "credentials": "LCSW",
        "kind": "therapist",
        "timezone": "America/New_York",
        "licensed_states": ["NY", "NJ"],
        "specialties": ["qa-anxiety", "qa-family"],
        "languages": ["en", "es"],
        "insurance": ["qa-medicaid", "qa-aetna"],
        "modalities": ["video", "phone"],
        "accepting_new_patients": True,
        "bio": "Evenings and early Sundays.",
        "services": [
            _service(
                "intake",
                duration_minutes=50,
                slot_step_minutes=20,
                buffer_before_minutes=10,
                buffer_after_minutes=15,
                min_notice_hours=24,
                horizon_days=365,
            ),
            _service(
                "short",
                duration_minutes=25,
                slot_step_minutes=15,
                min_notice_hours=0,
                horizon_days=365,
            ),
        ],
        "weekly_hours": [
            {"weekday": "mon", "start": "09:00", "end": "12:00"},
            {"weekday": "mon", "start": "13:00", "end": "17:00"},
            # Crosses the spring-forward gap and the fall-back repeat on the change days.
            {"weekday": "sun", "start": "00:30", "end": "04:00"},
            {"weekday": "sun", "start": "09:00", "end": "11:00"},
        ],
        "overrides": [
            {"date": "2027-03-15", "windows": []},
            {
                "date": "2027-11-08",
                "windows": [{"start": "07:00", "end": "08:30"}, {"start": "20:00", "end": "23:59"}],
            },
        ],
        "time_off": [{"start": "2027-03-21T01:00:00-04:00", "end": "2027-03-21T02:10:00-04:00"}],
    },
    {
        "slug": "qa-chi",
        "name": "Blair Okafor",
        "credentials": "MD",
        "kind": "addiction_medicine",
        "timezone": "America/Chicago",
        "licensed_states": ["IL", "WI"],
        "specialties": ["qa-anxiety"],
        "languages": ["en"],
        "insurance": ["qa-medicaid"],
        "modalities": ["video"],
        "accepting_new_patients": True,
        "services": [
            _service(
                "follow-up",
                duration_minutes=30,
                slot_step_minutes=45,
                buffer_after_minutes=5,
                min_notice_hours=2,
                horizon_days=365,
            )
        ],
        "weekly_hours": [
            {"weekday": "sat", "start": "22:00", "end": "23:59"},
            {"weekday": "sun", "start": "01:00", "end": "03:30"},
            {"weekday": "sun", "start": "08:00", "end": "10:00"},
            {"weekday": "tue", "start": "08:00", "end": "10:00"},
            {"weekday": "tue", "start": "10:00", "end": "12:00"},
        ],
        "overrides": [
            {"date": "2027-03-14", "windows": [{"start": "00:15", "end": "05:00"}]},
            {"date": "2027-11-07", "windows": []},
        ],
        "time_off": [],
    },
    {
        "slug": "qa-den",
        "name": "Casey Redhorse",
        "credentials": "LPC",
        "kind": "counselor",
        "timezone": "America/Denver",
        "licensed_states": ["CO", "NM"],
        "specialties": ["qa-family"],
        "languages": ["en", "nv"],
        "insurance": ["qa-aetna"],
        "modalities": ["phone"],
        "accepting_new_patients": False,
        "services": [
            _service(
                "session",
                duration_minutes=45,
                slot_step_minutes=30,
                buffer_before_minutes=15,
                min_notice_hours=48,
                horizon_days=365,
            )
        ],
        "weekly_hours": [
            {"weekday": day, "start": "09:00", "end": "12:00"}
            for day in ("mon", "wed", "fri", "sun")
        ],
        "overrides": [],
        "time_off": [
            {"start": "2027-03-10T10:00:00-07:00", "end": "2027-03-12T00:00:00-07:00"},
            {"start": "2027-11-05T09:40:00-06:00", "end": "2027-11-05T10:20:00-06:00"},
        ],
    },
    {
        "slug": "qa-phx",
        "name": "Dakota Sandoval",
        "credentials": "CPRS",
        "kind": "peer_coach",
        "timezone": "America/Phoenix",
        "licensed_states": ["AZ"],
        "specialties": ["qa-anxiety"],
        "languages": ["es"],
        "insurance": ["qa-selfpay"],
        "modalities": ["video", "phone"],
        "accepting_new_patients": True,
        "services": [
            _service(
                "check-in",
                duration_minutes=20,
                slot_step_minutes=25,
                min_notice_hours=1,
                horizon_days=365,
            )
        ],
        "weekly_hours": [
            {"weekday": day, "start": start, "end": end}
            for day in WEEKDAYS
            for start, end in (("08:00", "11:00"), ("12:00", "15:00"))
        ],
        "overrides": [],
        "time_off": [],
    },
    {
        "slug": "qa-la",
        "name": "Emery Castellanos",
        "credentials": "PsyD",
        "kind": "therapist",
        "timezone": "America/Los_Angeles",
        "licensed_states": ["CA", "OR", "WA"],
        "specialties": ["qa-family"],
        "languages": ["en", "es"],
        "insurance": ["qa-aetna", "qa-selfpay"],
        "modalities": ["video"],
        "accepting_new_patients": True,
        "services": [
            _service(
                "consult",
                duration_minutes=60,
                slot_step_minutes=45,
                buffer_before_minutes=5,
                buffer_after_minutes=10,
                min_notice_hours=12,
                horizon_days=365,
            )
        ],
        "weekly_hours": [{"weekday": "sun", "start": "00:00", "end": "23:59"}],
        "overrides": [],
        "time_off": [],
    },
]


def qa_document() -> dict[str, Any]:
    return {"providers": copy.deepcopy(QA_PROVIDERS)}


def qa_provider(slug: str) -> dict[str, Any]:
    return next(p for p in QA_PROVIDERS if p["slug"] == slug)
