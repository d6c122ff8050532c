"""External calendars through a real `qcluster` worker (see test_worker.py for the shared
database and the worker's lifecycle): a CalDAV calendar added on Radicale is read once, at
once, and its busy time blocks the slot."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.integration import test_worker as worker
from tests.integration.test_worker import Stack, wait_for
from tests.scheduling.caldav_server import PASSWORD, USER, radicale_server

pytestmark = pytest.mark.integration

migrated_template = worker.migrated_template
shared_db = worker.shared_db
stack = worker.stack


@pytest.fixture
def calendars(stack: Stack, settings, tmp_path):
    settings.CALENDAR_ALLOW_PRIVATE_HOSTS = True
    stack.env["CALENDAR_ALLOW_PRIVATE_HOSTS"] = "1"
    stack.stop_worker()
    stack.start_worker()  # again, with the setting
    with radicale_server(tmp_path) as server:
        yield server


def test_the_worker_reads_a_new_caldav_calendar_once_and_it_blocks_the_slot(
    stack: Stack, calendars
) -> None:
    from scheduling.availability import selectors as availability
    from scheduling.calendar import sync
    from scheduling.calendar.models import BusyInterval, CalendarSource
    from tests.factories import ProviderFactory, ServiceFactory

    provider = ProviderFactory(hours=[(d, "00:00", "23:59") for d in range(7)])
    service = ServiceFactory(
        provider=provider,
        duration_minutes=60,
        slot_step_minutes=60,
        min_notice_hours=0,
        buffer_after_minutes=0,
    )
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).replace(
        hour=15, minute=0, second=0, microsecond=0
    )
    calendar = calendars.new_calendar()
    calendars.put(
        calendar,
        "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//T//EN\nBEGIN:VEVENT\nUID:call@test\n"
        f"DTSTAMP:20260101T000000Z\nDTSTART:{tomorrow:%Y%m%dT%H%M%SZ}\n"
        f"DTEND:{tomorrow + timedelta(hours=1):%Y%m%dT%H%M%SZ}\nEND:VEVENT\nEND:VCALENDAR\n",
    )
    source = sync.add_source(
        provider=provider, kind="caldav", url=str(calendar.url), username=USER, password=PASSWORD
    )
    assert sync.sync_due_sources() == 0  # the sweep leaves it to its own queued task
    wait_for(
        lambda: CalendarSource.objects.get(pk=source.pk).last_synced_at is not None,
        what="the first reading",
    )
    source.refresh_from_db()
    assert (source.status, source.busy_count) == ("ok", 1)
    assert BusyInterval.objects.filter(provider=provider).count() == 1
    offered = availability.offered_slots(
        service, start=tomorrow - timedelta(hours=1), end=tomorrow + timedelta(hours=2)
    )
    assert [start for start, _ in offered] == [
        tomorrow - timedelta(hours=1),
        tomorrow + timedelta(hours=1),
    ]
