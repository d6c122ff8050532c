"""Invites name the exact instant booked, also on the nights clocks change (issue 13)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from scheduling.calendar.invites import appointment_uid, invite_for, is_ambiguous_or_missing
from tests.factories import AppointmentFactory, PatientFactory, ServiceFactory
from tests.scheduling.ical_parsers import parse, unfolded_lines

pytestmark = pytest.mark.django_db

CHICAGO = ZoneInfo("America/Chicago")


def _visit(start: datetime, minutes: int):
    return AppointmentFactory(
        service=ServiceFactory(duration_minutes=minutes),
        patient=PatientFactory(timezone="America/Chicago"),
        start=start,
    )


def _instants(appointment) -> list[tuple[datetime, datetime]]:
    parsed = parse(invite_for(appointment)[0])
    uid = appointment_uid(appointment.id)
    event, vevent = parsed.ical_event(uid), parsed.vobj_event(uid)
    return [
        (event.decoded("DTSTART").astimezone(UTC), event.decoded("DTEND").astimezone(UTC)),
        (vevent.dtstart.value.astimezone(UTC), vevent.dtend.value.astimezone(UTC)),
    ]


def test_the_second_one_thirty_on_the_night_clocks_fall_back_is_read_as_itself() -> None:
    start = datetime(2027, 11, 7, 7, 30, tzinfo=UTC)  # 01:30 CST, the second 01:30
    appointment = _visit(start, 30)
    expected = (start, start + timedelta(minutes=30))
    assert _instants(appointment) == [expected, expected]
    assert "DTSTART:20271107T073000Z" in unfolded_lines(invite_for(appointment)[0])


def test_a_visit_from_one_thirty_cdt_to_one_cst_ends_after_it_starts() -> None:
    start = datetime(2027, 11, 7, 6, 30, tzinfo=UTC)  # 01:30 CDT; ends 01:00 CST
    appointment = _visit(start, 30)
    expected = (start, datetime(2027, 11, 7, 7, 0, tzinfo=UTC))
    assert _instants(appointment) == [expected, expected]
    lines = unfolded_lines(invite_for(appointment)[0])
    assert "DTSTART:20271107T063000Z" in lines
    assert "DTEND:20271107T070000Z" in lines


def test_a_visit_after_the_repeated_hour_keeps_its_local_time_and_zone() -> None:
    start = datetime(2027, 11, 7, 9, 0, tzinfo=UTC)  # 03:00 CST, unambiguous
    appointment = _visit(start, 50)
    expected = (start, start + timedelta(minutes=50))
    assert _instants(appointment) == [expected, expected]
    assert "DTSTART;TZID=America/Chicago:20271107T030000" in unfolded_lines(
        invite_for(appointment)[0]
    )


def test_a_visit_across_the_skipped_hour_in_spring_is_read_as_booked() -> None:
    start = datetime(2027, 3, 14, 7, 30, tzinfo=UTC)  # 01:30 CST; 30 minutes later is 03:00 CDT
    appointment = _visit(start, 60)
    expected = (start, start + timedelta(hours=1))
    assert _instants(appointment) == [expected, expected]
    lines = unfolded_lines(invite_for(appointment)[0])
    assert "DTSTART;TZID=America/Chicago:20270314T013000" in lines
    assert "DTEND;TZID=America/Chicago:20270314T033000" in lines


@pytest.mark.parametrize(
    ("local", "unclear"),
    [
        (datetime(2027, 3, 14, 2, 30, tzinfo=CHICAGO), True),  # does not exist
        (datetime(2027, 11, 7, 1, 30, tzinfo=CHICAGO), True),  # first 01:30
        (datetime(2027, 11, 7, 1, 30, fold=1, tzinfo=CHICAGO), True),  # second 01:30
        (datetime(2027, 11, 7, 2, 30, tzinfo=CHICAGO), False),
        (datetime(2027, 3, 14, 3, 0, tzinfo=CHICAGO), False),
    ],
    ids=["spring-gap", "fall-first", "fall-second", "after-fall", "after-spring"],
)
def test_local_times_that_name_no_instant_or_two_are_recognised(local, unclear) -> None:
    assert is_ambiguous_or_missing(local) is unclear
