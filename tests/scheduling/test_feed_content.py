from __future__ import annotations

import pickle
import re
from datetime import UTC, datetime, timedelta

import icalendar
import pytest
import time_machine
from django.db.models import F

from scheduling.calendar.feeds import feed_token
from scheduling.calendar.invites import appointment_uid, session_uid
from scheduling.models import Appointment, AppointmentStatus
from tests.factories import AppointmentFactory, PatientFactory, ProviderFactory, ServiceFactory
from tests.scheduling.ical_parsers import parse, unfolded_lines

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
CLINICAL = re.compile(
    r"addiction|opioid|substance|recovery|rehab|detox|therap|counsel|psychiatr|methadone|"
    r"buprenorphine|suboxone|naloxone|overdose|withdrawal|treatment",
    re.IGNORECASE,
)


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(NOW, tick=False):
        yield


def _get_feed(client, provider):
    response = client.get(f"/calendar/{feed_token(provider=provider)}.ics")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    return parse(response.content)


def _uids(parsed) -> set[str]:
    ical = {str(e["UID"]) for e in parsed.ical_events()}
    assert ical == {e.uid.value for e in parsed.vobj_events()}
    return ical


def test_a_provider_with_no_appointments_gets_a_valid_empty_calendar(client) -> None:
    provider = ProviderFactory(name="Dana Whitfield")
    parsed = _get_feed(client, provider)
    assert parsed.ical_events() == [] and parsed.vobj_events() == []
    assert str(parsed.ical["X-WR-CALNAME"]) == "Bridgeway appointments (Dana W.)"
    assert parsed.vobj.contents["x-wr-calname"][0].value == "Bridgeway appointments (Dana W.)"
    assert str(parsed.ical["NAME"]) == "Bridgeway appointments (Dana W.)"
    assert parsed.ical.decoded("REFRESH-INTERVAL") == timedelta(minutes=15)
    assert parsed.ical["REFRESH-INTERVAL"].params["VALUE"] == "DURATION"
    lines = unfolded_lines(parsed.raw)
    assert "REFRESH-INTERVAL;VALUE=DURATION:PT15M" in lines
    assert "X-PUBLISHED-TTL:PT15M" in lines
    assert parsed.vobj.contents["x-published-ttl"][0].value == "PT15M"
    assert lines[0] == "BEGIN:VCALENDAR" and "VERSION:2.0" in lines


def test_each_appointment_is_an_event_with_its_properties_in_both_parsers(client) -> None:
    provider = ProviderFactory()
    patient = PatientFactory(name="Alex Rivera")
    start = datetime(2026, 12, 8, 15, 0, tzinfo=UTC)
    appointment = AppointmentFactory(
        service=ServiceFactory(provider=provider), patient=patient, start=start, sequence=2
    )
    uid = appointment_uid(appointment.id)

    parsed = _get_feed(client, provider)

    assert _uids(parsed) == {uid}
    event, vevent = parsed.ical_event(uid), parsed.vobj_event(uid)
    assert event.decoded("DTSTART") == start == vevent.dtstart.value
    assert event.decoded("DTEND") == start + timedelta(minutes=50) == vevent.dtend.value
    assert event["SEQUENCE"] == 2 and vevent.sequence.value == "2"
    assert event.decoded("DTSTAMP") == appointment.updated_at == vevent.dtstamp.value
    assert str(event["SUMMARY"]) == "Appointment with Alex R." == vevent.summary.value
    assert str(event["STATUS"]) == "CONFIRMED" == vevent.status.value
    assert str(event["LOCATION"]) == appointment.video_url == vevent.location.value
    assert str(event["URL"]) == appointment.video_url == vevent.url.value
    assert not parsed.ical.walk("VTIMEZONE")  # every time is UTC


def test_the_feed_runs_from_thirty_days_back_to_the_longest_horizon(client) -> None:
    provider = ProviderFactory()
    short = ServiceFactory(provider=provider, horizon_days=30)
    ServiceFactory(provider=provider, horizon_days=120)
    ServiceFactory(provider=provider, horizon_days=365, is_active=False)
    shown = [
        AppointmentFactory(service=short, start=NOW - timedelta(days=29)),
        AppointmentFactory(service=short, start=NOW + timedelta(days=100)),
    ]
    hidden = [
        AppointmentFactory(service=short, start=NOW - timedelta(days=31)),
        AppointmentFactory(service=short, start=NOW + timedelta(days=121)),
        AppointmentFactory(start=NOW + timedelta(days=2)),  # another provider's
    ]
    uids = _uids(_get_feed(client, provider))
    assert uids == {appointment_uid(a.id) for a in shown}
    assert not uids & {appointment_uid(a.id) for a in hidden}


def test_cancelled_appointments_stay_as_cancelled_for_thirty_days(client) -> None:
    provider = ProviderFactory()
    service = ServiceFactory(provider=provider)
    recent = AppointmentFactory(
        service=service, start=NOW + timedelta(days=3), status=AppointmentStatus.CANCELLED
    )
    old = AppointmentFactory(
        service=service, start=NOW + timedelta(days=4), status=AppointmentStatus.CANCELLED
    )
    Appointment.objects.filter(pk=old.pk).update(updated_at=NOW - timedelta(days=31))

    parsed = _get_feed(client, provider)

    uid = appointment_uid(recent.id)
    assert _uids(parsed) == {uid}
    assert str(parsed.ical_event(uid)["STATUS"]) == "CANCELLED"
    assert parsed.vobj_event(uid).status.value == "CANCELLED"


def test_a_group_session_appears_once_with_its_seat_count(client) -> None:
    provider = ProviderFactory()
    group = ServiceFactory(provider=provider, capacity=8)
    start = NOW + timedelta(days=5)
    seats = [
        AppointmentFactory(service=group, start=start, patient=PatientFactory(name=name))
        for name in ("Alex Rivera", "Sam Taylor", "Jo Park")
    ]
    AppointmentFactory(
        service=group, start=start, status=AppointmentStatus.CANCELLED, sequence=1
    )  # a freed seat is not counted
    solo = AppointmentFactory(
        service=ServiceFactory(provider=provider), start=start + timedelta(hours=3)
    )

    parsed = _get_feed(client, provider)

    uid = session_uid(seats[0].session_key)
    assert _uids(parsed) == {uid, appointment_uid(solo.id)}
    event, vevent = parsed.ical_event(uid), parsed.vobj_event(uid)
    assert str(event["SUMMARY"]) == "Group session: 3 of 8 seats taken" == vevent.summary.value
    assert "Alex R., Jo P., Sam T." in str(event["DESCRIPTION"])
    assert vevent.description.value == str(event["DESCRIPTION"])
    assert str(event["STATUS"]) == "CONFIRMED"
    assert event.decoded("DTSTART") == start == vevent.dtstart.value


def test_the_feed_shows_first_names_and_initials_unless_the_provider_opts_in(client) -> None:
    provider = ProviderFactory()
    AppointmentFactory(
        service=ServiceFactory(provider=provider),
        patient=PatientFactory(name="Alexandra Rivera-Montoya"),
        start=NOW + timedelta(days=1),
    )
    raw = _get_feed(client, provider).raw.decode()
    assert "Alexandra R." in raw and "Rivera" not in raw

    provider.feed_show_full_names = True
    provider.save()
    raw = _get_feed(client, provider).raw.decode()
    assert "Alexandra Rivera-Montoya" in raw


def test_the_feed_never_carries_clinical_words(client) -> None:
    provider = ProviderFactory(name="Dana Whitfield", kind="addiction_medicine")
    for index, name in enumerate(
        ["Opioid treatment intake", "Suboxone induction", "Recovery group"]
    ):
        service = ServiceFactory(provider=provider, name=name, capacity=1 + 5 * (index == 2))
        AppointmentFactory(
            service=service,
            start=NOW + timedelta(days=index + 1),
            cancel_reason="withdrawal, relapse",
            status=AppointmentStatus.CANCELLED if index == 1 else AppointmentStatus.CONFIRMED,
        )
    parsed = _get_feed(client, provider)
    assert len(parsed.ical_events()) == 3
    raw = parsed.raw.decode()
    assert not CLINICAL.search(raw), CLINICAL.search(raw)
    assert "Addiction medicine" not in raw and "addiction_medicine" not in raw


def test_full_names_with_commas_semicolons_and_newlines_are_escaped_and_folded(client) -> None:
    provider = ProviderFactory(feed_show_full_names=True)
    name = "Rivera, Alex; Jr\nZoë Ångström-Łukasiewicz de la Fuente y Montoya-Castellanos"
    appointment = AppointmentFactory(
        service=ServiceFactory(provider=provider),
        patient=PatientFactory(name=name),
        start=NOW + timedelta(days=1),
    )
    parsed = _get_feed(client, provider)  # checks CRLF and 75-octet lines
    uid = appointment_uid(appointment.id)
    assert b"\r\n " in parsed.raw
    assert b"Rivera\\, Alex\\; Jr\\nZo" in parsed.raw.replace(b"\r\n ", b"")
    expected = f"Appointment with {name}"
    assert str(parsed.ical_event(uid)["SUMMARY"]) == expected
    assert parsed.vobj_event(uid).summary.value == expected


def test_a_requested_appointment_is_tentative_in_the_feed(client) -> None:
    provider = ProviderFactory()
    appointment = AppointmentFactory(
        service=ServiceFactory(provider=provider),
        start=NOW + timedelta(days=1),
        status=AppointmentStatus.REQUESTED,
    )
    parsed = _get_feed(client, provider)
    uid = appointment_uid(appointment.id)
    assert str(parsed.ical_event(uid)["STATUS"]) == "TENTATIVE"
    assert parsed.vobj_event(uid).status.value == "TENTATIVE"


def test_a_moved_appointment_keeps_its_uid_in_the_feed(client) -> None:
    provider = ProviderFactory()
    appointment = AppointmentFactory(
        service=ServiceFactory(provider=provider), start=NOW + timedelta(days=1)
    )
    Appointment.objects.filter(pk=appointment.pk).update(
        start=F("start") + timedelta(hours=2),
        end=F("end") + timedelta(hours=2),
        blocked_start=F("blocked_start") + timedelta(hours=2),
        blocked_end=F("blocked_end") + timedelta(hours=2),
        sequence=F("sequence") + 1,
    )
    parsed = _get_feed(client, provider)
    event = parsed.ical_event(appointment_uid(appointment.id))
    assert event.decoded("DTSTART") == NOW + timedelta(days=1, hours=2)
    assert event["SEQUENCE"] == 1


def test_the_feed_is_byte_for_byte_what_icalendar_writes_for_the_same_values(client) -> None:
    provider = ProviderFactory(feed_show_full_names=True)
    service = ServiceFactory(provider=provider)
    group = ServiceFactory(provider=provider, capacity=5)
    for index, status in enumerate(AppointmentStatus.values):
        AppointmentFactory(
            service=service,
            start=NOW + timedelta(days=index + 1),
            status=status,
            patient=PatientFactory(name=f"Rivera, Alex; {index}\nÅngström " * 3),
        )
        AppointmentFactory(service=group, start=NOW + timedelta(days=10))
    raw = _get_feed(client, provider).raw
    # The feed sets typed values directly for speed; re-serialising what icalendar parses
    # from it must give the very same bytes.
    assert icalendar.Calendar.from_ical(raw).to_ical() == raw


def test_a_provider_name_that_would_tell_is_left_out_of_the_calendar_name(client) -> None:
    provider = ProviderFactory(name="Recovery Partners")
    parsed = _get_feed(client, provider)
    assert str(parsed.ical["X-WR-CALNAME"]) == "Bridgeway appointments"
    assert not CLINICAL.search(parsed.raw.decode())


def test_the_cached_feed_holds_no_patient_name_in_clear(client, settings) -> None:
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    provider = ProviderFactory(feed_show_full_names=True)
    AppointmentFactory(
        service=ServiceFactory(provider=provider),
        patient=PatientFactory(name="Quillon Featherstonehaugh"),
        start=datetime(2026, 12, 8, 15, 0, tzinfo=UTC),
    )
    first = client.get(f"/calendar/{feed_token(provider=provider)}.ics")
    assert b"Quillon Featherstonehaugh" in first.content

    from django.core.cache import cache

    raw = pickle.dumps(cache.get(f"bridgeway:feed:{provider.pk}"))
    assert b"Quillon" not in raw and b"Featherstonehaugh" not in raw
    again = client.get(f"/calendar/{feed_token(provider=provider)}.ics")
    assert again.content == first.content  # served from the cache, decrypted
