"""Benchmark: what the care circle (issue 15) costs the message hot paths.

    .venv/bin/python bench/safe_contact.py               # a fresh SQLite file under /tmp
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bw_circle_bench .venv/bin/python bench/safe_contact.py

Seeds BENCH_PATIENTS patients with one confirmed visit each in two days; half have quiet
hours, a tenth a support person who agreed. Then measures (1) the pure quiet-hours
computation per call, (2) recording a visit's reminders (the patient's and the support
persons') per visit, with its SQL statements, and (3) the send-time check
(`NOTIFICATION_SEND_CHECK`) per pending text, with its statements.
Targets: quiet hours <= 100 us a call; the send-time check <= 3 statements (a patient's text
one, a support person's three) and <= 10 ms a text on a loaded 2-core machine.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._data import setup_django

PATIENTS = int(os.environ.get("BENCH_PATIENTS", "1000"))


def main() -> None:
    url = setup_django("sqlite:////tmp/bridgeway-bench-circle.sqlite3", fresh=True)
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from notifications.models import Notification
    from scheduling.booking import messages
    from scheduling.circle.contact import SafeContact
    from scheduling.circle.models import ContactPreference, SupportPerson, SupportStatus
    from scheduling.circle.sending import check_send
    from tests.factories import AppointmentFactory, PatientFactory, ServiceFactory

    now = datetime.now(UTC).replace(microsecond=0)
    service = ServiceFactory()
    visits = []
    with transaction.atomic():
        for n in range(PATIENTS):
            patient = PatientFactory(phone=f"+1212{5550000 + n:07d}")
            if n % 2 == 0:
                ContactPreference.objects.create(
                    patient=patient,
                    quiet_from=clock(22, 0),
                    quiet_until=clock(8, 0),
                    has_support_persons=n % 10 == 0,
                )
            if n % 10 == 0:
                SupportPerson.objects.create(
                    patient=patient,
                    name="Jo",
                    phone=f"+1312{5550000 + n:07d}",
                    relationship="sister",
                    until=now + timedelta(days=200),
                    signed_at=now,
                    signed_source="bench",
                    status=SupportStatus.ACTIVE,
                    agreed_at=now,
                )
            start = now + timedelta(days=2, minutes=30 * (n % 40))
            visits.append(AppointmentFactory(service=service, patient=patient, start=start))

    rules = SafeContact(
        zone=ZoneInfo("America/New_York"), quiet_from=clock(22), quiet_until=clock(8)
    )
    moments = [now + timedelta(minutes=7 * i) for i in range(20_000)]
    started = time.perf_counter()
    for moment in moments:
        rules.reminder_at(moment, now=now)
    pure_us = (time.perf_counter() - started) / len(moments) * 1e6

    record_ms, record_statements = [], []
    for visit in visits:
        visit = (
            type(visit)
            .objects.select_related("patient__contact_preference", "provider", "service")
            .get(pk=visit.pk)
        )
        connection.queries_log.clear()
        with transaction.atomic(), CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            messages.record_reminders(appointment=visit, now=now, new_appointment=True)
            record_ms.append((time.perf_counter() - started) * 1e3)
        record_statements.append(len(captured.captured_queries))

    rows = list(Notification.objects.filter(channel="sms", status="pending"))
    check_ms, check_statements = [], []
    for row in rows:
        connection.queries_log.clear()
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            check_send(row, now)
            check_ms.append((time.perf_counter() - started) * 1e3)
        check_statements.append(len(captured.captured_queries))

    backend = "PostgreSQL" if url.startswith("postgres") else "SQLite"
    print(f"care-circle benchmark on {backend}, load average {os.getloadavg()[0]:.1f}")
    print(
        f"  work: {PATIENTS} patients, one visit each; {PATIENTS // 2} with quiet hours, "
        f"{len(range(0, PATIENTS, 10))} with a support person; {len(rows)} pending texts"
    )
    print(f"  quiet hours (pure): {pure_us:.1f} us a call over {len(moments)} calls")
    print(
        f"  recording a visit's reminders: p50 {statistics.median(record_ms):.2f} ms, "
        f"statements {min(record_statements)}..{max(record_statements)}"
    )
    check_p50 = statistics.median(check_ms)
    print(
        f"  send-time check: p50 {check_p50:.2f} ms a text, statements "
        f"{min(check_statements)}..{max(check_statements)}"
    )
    ok = pure_us <= 100 and check_p50 <= 10 and max(check_statements) <= 3
    print("all targets met" if ok else "SOME TARGETS MISSED")


if __name__ == "__main__":
    main()
