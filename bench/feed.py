"""Provider calendar feed: 2,000 appointments through the HTTP view, against a bare icalendar floor.

2,000 of them in 100 recurring series of 20 (BENCH_FEED_SERIES): the feed lists each visit.

    python bench/feed.py                    # SQLite file under /tmp
    DATABASE_URL=postgres://... REDIS_URL=redis://... python bench/feed.py

Prints the median time of an uncached feed request (query + render + response), the median
of a bare icalendar build + to_ical() of the same events from plain Python data (the floor),
their ratio, the SQL queries per request, and the times of a repeated unchanged request
(served from the cache of rendered bytes) and of a 304.
"""

from __future__ import annotations

import os
import secrets
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._data import setup_django

SLUG = "feedbench-provider"
APPOINTMENTS = int(os.environ.get("BENCH_FEED_APPOINTMENTS", "2000"))
RUNS = int(os.environ.get("BENCH_RUNS", "7"))
SERIES = int(os.environ.get("BENCH_FEED_SERIES", "100"))
FAST_RUNS = 30


def build_provider(count: int):
    """One provider with `count` one-to-one appointments from 29 days back, none overlapping."""
    from django.db import transaction

    from common.tokens import derive_token, hash_token
    from scheduling import models as m

    provider = m.Provider.objects.filter(slug=SLUG).first()
    in_series = min(SERIES * 20, count // 20 * 20)
    if (
        provider
        and provider.appointments.count() == count
        and provider.appointments.filter(series__isnull=False).count() == in_series
    ):
        return provider
    with transaction.atomic():
        if provider:
            m.AppointmentEvent.objects.filter(appointment__provider=provider).delete()
            m.Appointment.objects.filter(provider=provider).delete()
            m.Series.objects.filter(provider=provider).delete()
            m.Service.objects.filter(provider=provider).delete()
            provider.delete()
        m.Patient.objects.filter(sms_consent_source="bench-feed").delete()
        provider = m.Provider.objects.create(
            slug=SLUG,
            name="Dana Whitfield",
            kind="therapist",
            timezone="America/New_York",
            email="dana@clinic.example.org",
        )
        service = m.Service.objects.create(
            provider=provider,
            slug="visit",
            name="Follow-up visit",
            duration_minutes=50,
            horizon_days=120,
        )
        patients = m.Patient.objects.bulk_create(
            [
                m.Patient(
                    name=f"Alex{i:04d} Rivera",
                    phone=f"+1556{i:07d}",
                    timezone="America/New_York",
                    state="NY",
                    sms_consent_source="bench-feed",  # phones are encrypted: found by this
                )
                for i in range(400)
            ]
        )
        if not all(p.pk for p in patients):
            patients = list(m.Patient.objects.filter(sms_consent_source="bench-feed"))
        base = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(days=29)
        rows = []
        for i in range(count):
            start = base + timedelta(minutes=75 * i)
            status = "cancelled" if i % 20 == 0 else "requested" if i % 10 == 5 else "confirmed"
            appointment_id = uuid.uuid4()
            salt = secrets.token_hex(8)
            rows.append(
                m.Appointment(
                    id=appointment_id,
                    provider=provider,
                    service=service,
                    patient=patients[i % len(patients)],
                    start=start,
                    end=start + timedelta(minutes=50),
                    blocked_start=start,
                    blocked_end=start + timedelta(minutes=50),
                    session_key=str(uuid.uuid4()),
                    status=status,
                    video_room=secrets.token_urlsafe(16),
                    manage_token_salt=salt,
                    manage_token_hash=hash_token(derive_token("manage", appointment_id, salt)),
                    sequence=i % 3,
                )
            )
        m.Appointment.objects.bulk_create(rows, batch_size=500)
        # Issue 13: SERIES of the appointments belong to recurring series, 20 visits each.
        for index in range(min(SERIES, count // 20)):
            members = rows[index * 20 : index * 20 + 20]
            salt = secrets.token_hex(8)
            series = m.Series(
                provider=provider,
                service=service,
                patient=members[0].patient,
                first_start=members[0].start,
                every_weeks=1,
                count=20,
                manage_token_salt=salt,
            )
            series.manage_token_hash = hash_token(derive_token("series", series.id, salt))
            series.save()
            m.Appointment.objects.filter(pk__in=[a.id for a in members]).update(series=series)
    from django.db import connection

    if connection.vendor == "postgresql":
        # What autovacuum does after a bulk load; without statistics the planner guesses 1 row.
        with connection.cursor() as cursor:
            for model in (m.Appointment, m.Patient, m.Provider, m.Service):
                cursor.execute(f"ANALYZE {model._meta.db_table}")
    return provider


def floor_build(entries: list) -> bytes:
    """The same events with icalendar's plain API, from data already in memory."""
    from icalendar import Calendar, Event

    cal = Calendar()
    cal.add("prodid", "-//Bench//Floor//EN")
    cal.add("version", "2.0")
    for e in entries:
        url = "https://meet.jit.si/" + e.video_room
        event = Event()
        event.add("uid", f"{e.id}@testserver")
        event.add("dtstamp", e.updated_at)
        event.add("last-modified", e.updated_at)
        event.add("sequence", e.sequence)
        event.add("dtstart", e.start)
        event.add("dtend", e.end)
        event.add("summary", f"Appointment with {e.patient_name}")
        event.add("status", "CONFIRMED")
        event.add("location", url)
        event.add("url", url)
        event.add("class", "PRIVATE")
        event.add("transp", "OPAQUE")
        cal.add_component(event)
    return cal.to_ical()


def count_queries(fn) -> int:
    """SQL statements run by fn (a wrapper: the request cycle resets connection.queries)."""
    from django.db import connection

    seen = []
    with connection.execute_wrapper(lambda execute, *args: seen.append(1) or execute(*args)):
        fn()
    return len(seen)


def timed(fn, runs: int) -> tuple[float, float]:
    """Median wall time and median CPU time of this process (the machine is shared)."""
    wall, cpu = [], []
    for _ in range(runs):
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - w0)
        cpu.append(time.process_time() - c0)
    return statistics.median(wall), statistics.median(cpu)


def ms(pair: tuple[float, float]) -> str:
    return f"{pair[0] * 1000:8.1f} ms  (cpu {pair[1] * 1000:7.1f} ms)"


def main() -> None:
    url = setup_django(default_url="sqlite:////tmp/bridgeway-bench-feed.sqlite3")
    from django.conf import settings
    from django.core.cache import cache
    from django.test import Client

    from scheduling.calendar import feeds

    provider = build_provider(APPOINTMENTS)
    token = feeds.feed_token(provider=provider)
    path = f"/calendar/{token}.ics"
    key = f"bridgeway:feed:{provider.pk}"
    client = Client()

    def uncached() -> None:
        cache.delete(key)
        response = client.get(path)
        assert response.status_code == 200

    uncached()  # warm imports and connections
    queries = count_queries(uncached)
    body = client.get(path).content
    events = body.count(b"BEGIN:VEVENT")
    state = feeds.feed_state(feeds.provider_for_feed_token(token))
    entries = feeds.feed_entries(provider, state.window)
    # Alternate the two so that a change in the machine's load hits both alike.
    pairs = [(timed(uncached, 1), timed(lambda: floor_build(entries), 1)) for _ in range(RUNS)]
    http = tuple(statistics.median(p[0][i] for p in pairs) for i in (0, 1))
    floor = tuple(statistics.median(p[1][i] for p in pairs) for i in (0, 1))

    client.get(path)  # fill the cache
    cached_queries = count_queries(lambda: client.get(path))
    repeated = timed(lambda: client.get(path), FAST_RUNS)
    etag = client.get(path)["ETag"]
    assert client.get(path, HTTP_IF_NONE_MATCH=etag).status_code == 304
    conditional_queries = count_queries(lambda: client.get(path, HTTP_IF_NONE_MATCH=etag))
    not_modified = timed(lambda: client.get(path, HTTP_IF_NONE_MATCH=etag), FAST_RUNS)

    backend = "PostgreSQL" if url.startswith("postgres") else "SQLite"
    cache_backend = settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"feed benchmark on {backend}, cache {cache_backend}, load average {load}")
    print(f"  work: {APPOINTMENTS} appointments -> {events} VEVENTs, {len(body):,} bytes")
    print(f"  uncached feed through the view  {ms(http)}   median of {RUNS}")
    print(f"  bare icalendar build + to_ical  {ms(floor)}   median of {RUNS}, the floor")
    print(
        f"  ratio view / floor              {http[0] / floor[0]:8.2f}     "
        f"(cpu {http[1] / floor[1]:.2f})"
    )
    print(
        f"  SQL queries per request         uncached {queries}, "
        f"cached {cached_queries}, 304 {conditional_queries}"
    )
    print(f"  repeated unchanged (cache hit)  {ms(repeated)}   median of {FAST_RUNS}")
    print(f"  304 Not Modified                {ms(not_modified)}   median of {FAST_RUNS}")


if __name__ == "__main__":
    main()
