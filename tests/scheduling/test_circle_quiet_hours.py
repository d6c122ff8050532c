"""Quiet hours in the patient's zone, across zones and daylight-saving nights (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from scheduling.circle.contact import QUIET_LEAD, SafeContact

NY = ZoneInfo("America/New_York")
LA = ZoneInfo("America/Los_Angeles")
NIGHT = {"quiet_from": time(22, 0), "quiet_until": time(8, 0)}


def rules(zone: ZoneInfo = NY, **kw: object) -> SafeContact:
    return SafeContact(zone=zone, **{**NIGHT, **kw})  # type: ignore[arg-type]


def test_no_quiet_hours_hold_nothing():
    assert SafeContact(zone=NY).quiet_window(datetime(2026, 3, 4, 8, tzinfo=UTC)) is None


def test_an_overnight_window_holds_the_small_hours_and_ends_in_the_morning():
    window = rules().quiet_window(datetime(2026, 3, 4, 3, 0, tzinfo=NY))

    assert window == (datetime(2026, 3, 3, 22, 0, tzinfo=NY), datetime(2026, 3, 4, 8, 0, tzinfo=NY))


def test_the_same_instant_is_quiet_in_one_zone_and_not_in_another():
    at = datetime(2026, 3, 4, 6, 30, tzinfo=UTC)  # 01:30 in New York, 22:30 in Los Angeles

    assert rules(NY).is_quiet(at)
    assert rules(LA).is_quiet(at)
    assert not rules(LA).is_quiet(datetime(2026, 3, 4, 5, 30, tzinfo=UTC))  # 21:30 LA
    assert rules(NY).is_quiet(datetime(2026, 3, 4, 5, 30, tzinfo=UTC))  # 00:30 NY


def test_a_daytime_window_that_does_not_cross_midnight():
    quiet = rules(quiet_from=time(13, 0), quiet_until=time(15, 0))

    assert quiet.is_quiet(datetime(2026, 3, 4, 14, 0, tzinfo=NY))
    assert not quiet.is_quiet(datetime(2026, 3, 4, 15, 0, tzinfo=NY))
    assert not quiet.is_quiet(datetime(2026, 3, 4, 3, 0, tzinfo=NY))


def test_a_reminder_due_inside_moves_to_just_before_the_window():
    due = datetime(2026, 3, 4, 7, 0, tzinfo=NY)
    now = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)

    assert rules().reminder_at(due, now=now) == datetime(2026, 3, 3, 22, 0, tzinfo=NY) - QUIET_LEAD


def test_a_reminder_outside_the_window_keeps_its_time():
    due = datetime(2026, 3, 4, 9, 0, tzinfo=NY)

    assert rules().reminder_at(due, now=datetime(2026, 3, 2, tzinfo=UTC)) == due


def test_a_reminder_whose_earlier_time_has_passed_is_dropped_never_sent_into_the_past():
    due = datetime(2026, 3, 4, 7, 0, tzinfo=NY)
    now = datetime(2026, 3, 3, 23, 0, tzinfo=NY)

    assert rules().reminder_at(due, now=now) is None


def test_spring_forward_night_keeps_the_wall_clock_window_nine_hours_long():
    window = rules().quiet_window(datetime(2026, 3, 8, 3, 30, tzinfo=NY))

    assert window is not None
    assert window[1] - window[0] == timedelta(hours=9)
    assert window[1] == datetime(2026, 3, 8, 8, 0, tzinfo=NY)  # 12:00 UTC, EDT


def test_fall_back_night_keeps_the_wall_clock_window_eleven_hours_long():
    window = rules().quiet_window(datetime(2026, 11, 1, 1, 30, tzinfo=NY))

    assert window is not None
    assert window[1] - window[0] == timedelta(hours=11)


def test_a_start_that_does_not_exist_that_night_starts_early_and_an_end_ends_late():
    quiet = rules(quiet_from=time(2, 30), quiet_until=time(2, 45))
    window = quiet.quiet_window(datetime(2026, 3, 8, 7, 0, tzinfo=UTC))

    # 02:30 and 02:45 never happen on 8 March in New York: never shorter than asked.
    assert window == (
        datetime(2026, 3, 8, 6, 30, tzinfo=UTC),
        datetime(2026, 3, 8, 7, 45, tzinfo=UTC),
    )


def test_a_time_that_happens_twice_starts_at_its_first_and_ends_at_its_second():
    quiet = rules(quiet_from=time(1, 15), quiet_until=time(1, 45))
    window = quiet.quiet_window(datetime(2026, 11, 1, 6, 0, tzinfo=UTC))

    # 01:15 EDT is 05:15 UTC; 01:45 EST is 06:45 UTC.
    assert window == (
        datetime(2026, 11, 1, 5, 15, tzinfo=UTC),
        datetime(2026, 11, 1, 6, 45, tzinfo=UTC),
    )


def test_a_reminder_moved_across_the_spring_forward_night_lands_the_evening_before():
    due = datetime(2026, 3, 8, 7, 0, tzinfo=NY)  # first morning of EDT
    moved = rules().reminder_at(due, now=datetime(2026, 3, 1, tzinfo=UTC))

    assert moved == datetime(2026, 3, 8, 2, 55, tzinfo=UTC)  # 21:55 EST on 7 March


def test_another_text_waits_for_the_end_of_the_quiet_hours():
    at = datetime(2026, 3, 3, 23, 30, tzinfo=NY)

    assert rules().text_at(at) == datetime(2026, 3, 4, 8, 0, tzinfo=NY)


def test_another_text_goes_at_once_when_the_visit_starts_before_the_quiet_hours_end():
    at = datetime(2026, 3, 3, 23, 30, tzinfo=NY)

    assert rules().text_at(at, deadline=datetime(2026, 3, 4, 7, 30, tzinfo=NY)) == at


def test_discreet_names_and_a_preferred_name():
    contact = SafeContact(zone=NY, discreet_names=True, preferred_name="Sam")

    assert contact.provider_name("Dana W.") == "your provider"
    assert contact.patient_name("Alex Rivera") == "Sam"
    assert SafeContact(zone=NY).provider_name("Dana W.") == "Dana W."
