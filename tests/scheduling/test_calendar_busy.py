"""The pure expansion (scheduling.calendar.busy): trimming history as text changes nothing,
and an Outlook VTIMEZONE under a Windows name is read as its IANA zone."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar

from scheduling.calendar import busy

NY = ZoneInfo("America/New_York")
START = datetime(2027, 3, 1, 12, tzinfo=UTC)
END = START + timedelta(days=30)


def calendar(seed: int) -> bytes:
    """Events a few days either side of the window's edges, in every shape that matters."""
    rng = random.Random(seed)
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//T//EN"]
    for i in range(300):
        edge = rng.choice([START, END])
        day = (edge + timedelta(hours=rng.randint(-96, 96))).astimezone(NY)
        shape = rng.choice(["utc", "zoned", "floating", "allday", "duration", "weekly"])
        lines += ["BEGIN:VEVENT", f"UID:e{i}@t", "DTSTAMP:20270101T000000Z"]
        if shape == "utc":
            lines += [f"DTSTART:{day.astimezone(UTC):%Y%m%dT%H%M%SZ}"]
            lines += [f"DTEND:{day.astimezone(UTC) + timedelta(hours=2):%Y%m%dT%H%M%SZ}"]
        elif shape == "zoned":
            lines += [f"DTSTART;TZID=America/New_York:{day:%Y%m%dT%H%M%S}"]
            lines += [f"DTEND;TZID=America/New_York:{day + timedelta(hours=30):%Y%m%dT%H%M%S}"]
        elif shape == "floating":
            lines += [
                f"DTSTART:{day:%Y%m%dT%H%M%S}",
                f"DTEND:{day + timedelta(hours=1):%Y%m%dT%H%M%S}",
            ]
        elif shape == "allday":
            lines += [f"DTSTART;VALUE=DATE:{day:%Y%m%d}"]
            lines += [f"DTEND;VALUE=DATE:{day + timedelta(days=rng.randint(1, 3)):%Y%m%d}"]
        elif shape == "duration":
            lines += [f"DTSTART:{day.astimezone(UTC):%Y%m%dT%H%M%SZ}", "DURATION:P2D"]
        else:
            first = day - timedelta(weeks=8)
            lines += [f"DTSTART;TZID=America/New_York:{first:%Y%m%dT%H%M%S}"]
            lines += [f"DTEND;TZID=America/New_York:{first + timedelta(hours=1):%Y%m%dT%H%M%S}"]
            lines += ["RRULE:FREQ=WEEKLY;COUNT=9"]
        lines += ["END:VEVENT"]
    lines += ["END:VCALENDAR"]
    return ("\r\n".join(lines) + "\r\n").encode()


def test_trimming_history_as_text_changes_no_busy_time():
    for seed in range(5):
        body = calendar(seed)
        untrimmed = busy.busy_intervals(
            icalendar.Calendar.from_ical(body), zone=NY, start=START, end=END
        )
        assert busy.busy_intervals(body, zone=NY, start=START, end=END) == untrimmed
        assert untrimmed  # the case is not empty


def test_trimming_keeps_only_recurring_or_undated_lengths_far_from_the_window():
    body = calendar(1)
    later = busy._trimmed(body, START + timedelta(days=400), END + timedelta(days=400))
    kept = later.count(b"BEGIN:VEVENT")
    assert kept == body.count(b"RRULE:") + body.count(b"DURATION:") < body.count(b"BEGIN:VEVENT")


def test_an_outlook_zone_is_read_as_its_iana_zone_whatever_its_vtimezone_says():
    wrong = b"""BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//T//EN\r
BEGIN:VTIMEZONE\r
TZID:Eastern Standard Time\r
BEGIN:STANDARD\r
DTSTART:16010101T000000\r
TZOFFSETFROM:-0300\r
TZOFFSETTO:-0300\r
END:STANDARD\r
END:VTIMEZONE\r
BEGIN:VEVENT\r
UID:call@t\r
DTSTAMP:20270101T000000Z\r
DTSTART;TZID=Eastern Standard Time:20270317T110000\r
DTEND;TZID=Eastern Standard Time:20270317T120000\r
END:VEVENT\r
END:VCALENDAR\r
"""
    found = busy.busy_intervals(wrong, zone=NY, start=START, end=END)
    assert found == [(datetime(2027, 3, 17, 15, tzinfo=UTC), datetime(2027, 3, 17, 16, tzinfo=UTC))]
