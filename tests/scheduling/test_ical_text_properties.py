from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from scheduling.calendar.invites import FeedEntry, appointment_uid, feed_for, invite_for, param_text
from scheduling.models import Appointment, Patient, Provider, Service
from tests.scheduling.ical_parsers import parse

START = datetime(2026, 12, 8, 15, 0, tzinfo=UTC)

# Names as people type them: letters of any script, punctuation that iCalendar must
# escape (comma, semicolon, backslash, colon, quotes), line breaks and tabs.
names = st.text(
    alphabet=st.one_of(
        st.characters(categories=["L", "N", "P", "S", "Zs"]),
        st.sampled_from([",", ";", "\\", ":", '"', "\n", "\r", "\t", "é", "Ł", "😀"]),
    ),
    min_size=1,
    max_size=120,
).filter(lambda s: s.strip())


def _lines(text: str) -> str:
    """What a TEXT value reads back as: every line break (CRLF, CR, LF) becomes LF."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _entry(name: str) -> FeedEntry:
    return FeedEntry(
        id=uuid.uuid4(),
        start=START,
        end=START + timedelta(minutes=50),
        status="confirmed",
        sequence=1,
        updated_at=START - timedelta(days=1),
        patient_name=name,
        video_room="room",
        session_key="k",
        capacity=1,
    )


@settings(max_examples=150, deadline=None)
@example(name="Alex \\N. Rivera")  # icalendar 7.3 writes a typed "\N" as a line break
@given(name=names)
def test_any_full_name_in_a_feed_survives_both_parsers(name: str) -> None:
    provider = Provider(pk=1, name="Dana Whitfield", timezone="UTC", feed_show_full_names=True)
    entry = _entry(name)
    parsed = parse(feed_for(provider, [entry]))  # also checks CRLF and 75-octet lines
    uid = appointment_uid(entry.id)
    expected = f"Appointment with {_lines(name)}"
    assert str(parsed.ical_event(uid)["SUMMARY"]) == expected
    assert parsed.vobj_event(uid).summary.value == expected


@pytest.mark.django_db
@settings(max_examples=40, deadline=None)
@example(name="Dana Whitfield", reason="\\N")  # drawn on a fresh clone: read back as a newline
@example(name="Dana \\N. W\\\\N", reason="C:\\New\\n\\,\\;\\\\N\nnext")
@given(name=names, reason=names)
def test_any_name_and_reason_in_an_invite_survive_both_parsers(name: str, reason: str) -> None:
    provider = Provider(pk=1, name=name, timezone="America/New_York", email="d@example.org")
    patient = Patient(pk=1, name=name, email="p@example.net", timezone="America/New_York")
    appointment = Appointment(
        id=uuid.uuid4(),
        provider=provider,
        service=Service(pk=1, provider=provider, name="Visit", duration_minutes=50),
        patient=patient,
        start=START,
        end=START + timedelta(minutes=50),
        status="cancelled",
        sequence=2,
        video_room="room",
        manage_token_salt="salt",
        cancel_reason=reason,
        created_at=START - timedelta(days=2),
        updated_at=START - timedelta(days=1),
    )
    raw, method = invite_for(appointment, now=START - timedelta(hours=1))
    parsed = parse(raw)
    uid = appointment_uid(appointment.id)
    event, vevent = parsed.ical_event(uid), parsed.vobj_event(uid)
    cn = param_text(name)
    assert "\\" not in cn and '"' not in cn and "\n" not in cn and "^" not in cn
    assert event["ATTENDEE"].params["CN"] == cn
    assert vevent.attendee.params["CN"] == [cn]
    assert str(event["SUMMARY"]) == vevent.summary.value
    if "COMMENT" in event:
        assert str(event["COMMENT"]) == _lines(reason) == vevent.comment.value
