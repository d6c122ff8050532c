from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
import time_machine

from common.api_tokens import issue_api_token
from common.events import Actor
from scheduling.booking import services
from scheduling.booking.links import ics_url, manage_token, manage_url
from scheduling.calendar.invites import (
    appointment_uid,
    google_calendar_url,
    invite_content_type,
    invite_for,
)
from scheduling.models import AppointmentStatus
from tests.factories import (
    AppointmentFactory,
    PatientFactory,
    ProviderFactory,
    ServiceFactory,
    StaffFactory,
    UserFactory,
)
from tests.scheduling.ical_parsers import parse

pytestmark = pytest.mark.django_db

NY = ZoneInfo("America/New_York")
CLINICAL = re.compile(
    r"addiction|opioid|substance|recovery|rehab|detox|therap|counsel|psychiatr|methadone|"
    r"buprenorphine|suboxone|naloxone|overdose|withdrawal|treatment|addiction.medicine",
    re.IGNORECASE,
)


def _appointment(**kwargs):
    kwargs.setdefault("start", datetime(2026, 12, 8, 15, 0, tzinfo=UTC))  # 10:00 in New York
    return AppointmentFactory(**kwargs)


def _invite_url(appointment, token: str | None) -> str:
    url = f"/api/appointments/{appointment.id}/invite.ics"
    return url if token is None else f"{url}?token={token}"


def test_invite_download_with_a_wrong_token_is_404_with_an_empty_body(client) -> None:
    appointment = _appointment()
    response = client.get(_invite_url(appointment, "x" * 22))
    assert response.status_code == 404
    assert response.content == b""


def test_invite_download_without_a_token_is_404_with_an_empty_body(client) -> None:
    appointment = _appointment()
    response = client.get(_invite_url(appointment, None))
    assert response.status_code == 404
    assert response.content == b""


def test_invite_download_for_an_unknown_or_malformed_id_is_404(client) -> None:
    appointment = _appointment()
    token = manage_token(appointment)
    assert client.get(f"/api/appointments/not-a-uuid/invite.ics?token={token}").status_code == 404
    other = "00000000-0000-4000-8000-000000000000"
    response = client.get(f"/api/appointments/{other}/invite.ics?token={token}")
    assert response.status_code == 404
    assert response.content == b""


def test_one_appointments_token_does_not_open_another_appointments_invite(client) -> None:
    mine, theirs = _appointment(), _appointment(start=datetime(2026, 12, 9, 15, tzinfo=UTC))
    response = client.get(_invite_url(theirs, manage_token(mine)))
    assert response.status_code == 404


def test_invite_download_is_a_calendar_attachment(client) -> None:
    appointment = _appointment()
    response = client.get(ics_url(appointment).replace("http://testserver", ""))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="appointment-20261208.ics"'
    assert "private" in response["Cache-Control"]
    parsed = parse(response.content)
    assert str(parsed.ical["METHOD"]) == "REQUEST"
    assert parsed.ical_event(appointment_uid(appointment.id))


def test_invite_carries_every_itip_property_in_both_parsers() -> None:
    provider = ProviderFactory(name="Dana Whitfield", email="dana@clinic.example.org")
    service = ServiceFactory(provider=provider)
    patient = PatientFactory(name="Alex Rivera", email="alex@example.net")
    appointment = _appointment(service=service, patient=patient, sequence=3)
    uid = f"{appointment.id}@testserver"
    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)

    raw, method = invite_for(appointment, now=now)

    assert method == "REQUEST"
    parsed = parse(raw)
    assert str(parsed.ical["METHOD"]) == "REQUEST" == parsed.vobj.method.value
    assert parsed.vobj.version.value == "2.0" and parsed.vobj.prodid.value
    event, vevent = parsed.ical_event(uid), parsed.vobj_event(uid)
    assert len(parsed.ical_events()) == 1 == len(parsed.vobj_events())

    assert event["SEQUENCE"] == 3 and vevent.sequence.value == "3"
    assert event.decoded("DTSTAMP") == now == vevent.dtstamp.value
    expected_start = datetime(2026, 12, 8, 10, 0, tzinfo=NY)
    assert event.decoded("DTSTART") == expected_start == vevent.dtstart.value
    assert event.decoded("DTEND") == expected_start + timedelta(minutes=50) == vevent.dtend.value
    assert event["DTSTART"].params["TZID"] == "America/New_York"
    assert {tz["TZID"] for tz in parsed.ical.walk("VTIMEZONE")} == {"America/New_York"}

    assert str(event["ORGANIZER"]) == "mailto:dana@clinic.example.org" == vevent.organizer.value
    assert event["ORGANIZER"].params["CN"] == "Dana W."
    assert vevent.organizer.params["CN"] == ["Dana W."]
    attendee = event["ATTENDEE"]
    assert str(attendee) == "mailto:alex@example.net" == vevent.attendee.value
    assert attendee.params["CN"] == "Alex Rivera" and vevent.attendee.params["CN"] == [
        "Alex Rivera"
    ]
    assert attendee.params["PARTSTAT"] == "ACCEPTED" == vevent.attendee.params["PARTSTAT"][0]
    assert attendee.params["RSVP"] == "FALSE" == vevent.attendee.params["RSVP"][0]

    assert str(event["STATUS"]) == "CONFIRMED" == vevent.status.value
    assert str(event["LOCATION"]) == appointment.video_url == vevent.location.value
    assert str(event["URL"]) == appointment.video_url == vevent.url.value
    assert str(event["SUMMARY"]) == "Appointment with Dana W." == vevent.summary.value
    description = str(event["DESCRIPTION"])
    assert description == vevent.description.value
    assert manage_url(appointment) in description and appointment.video_url in description

    (alarm,) = event.walk("VALARM")
    assert len(vevent.contents["valarm"]) == 1
    assert str(alarm["ACTION"]) == "DISPLAY" == vevent.valarm.action.value
    assert alarm.decoded("TRIGGER") == timedelta(minutes=-15) == vevent.valarm.trigger.value
    assert invite_content_type(method) == "text/calendar; charset=utf-8; method=REQUEST"


def test_a_requested_appointment_is_tentative() -> None:
    appointment = _appointment(status=AppointmentStatus.REQUESTED)
    parsed = parse(invite_for(appointment)[0])
    uid = appointment_uid(appointment.id)
    assert str(parsed.ical_event(uid)["STATUS"]) == "TENTATIVE"
    assert parsed.vobj_event(uid).status.value == "TENTATIVE"


def test_a_patient_without_email_still_gets_a_valid_invite() -> None:
    appointment = _appointment(patient=PatientFactory(email=""))
    parsed = parse(invite_for(appointment)[0])
    assert "ATTENDEE" not in parsed.ical_event(appointment_uid(appointment.id))


def test_organizer_falls_back_to_the_service_address(settings) -> None:
    settings.DEFAULT_FROM_EMAIL = "Bridgeway <appointments@bridgeway.example>"
    appointment = _appointment(service=ServiceFactory(provider=ProviderFactory(email="")))
    parsed = parse(invite_for(appointment)[0])
    event = parsed.ical_event(appointment_uid(appointment.id))
    assert str(event["ORGANIZER"]) == "mailto:appointments@bridgeway.example"


@time_machine.travel(datetime(2026, 12, 1, 12, 0, tzinfo=UTC), tick=False)
def test_rescheduling_keeps_the_uid_and_raises_the_sequence() -> None:
    appointment = _appointment()
    before = parse(invite_for(appointment)[0])
    uid = appointment_uid(appointment.id)

    moved = services.reschedule_appointment(
        appointment=appointment,
        start=datetime(2026, 12, 8, 11, 0, tzinfo=NY),
        actor=Actor.PATIENT,
    )
    raw, method = invite_for(moved)

    after = parse(raw)
    assert method == "REQUEST" and str(after.ical["METHOD"]) == "REQUEST"
    old, new = before.ical_event(uid), after.ical_event(uid)
    assert new["SEQUENCE"] > old["SEQUENCE"]
    assert int(after.vobj_event(uid).sequence.value) > int(before.vobj_event(uid).sequence.value)
    assert new.decoded("DTSTART") == datetime(2026, 12, 8, 11, 0, tzinfo=NY)
    assert after.vobj_event(uid).dtstart.value == datetime(2026, 12, 8, 16, 0, tzinfo=UTC)


@time_machine.travel(datetime(2026, 12, 1, 12, 0, tzinfo=UTC), tick=False)
def test_cancelling_sends_method_cancel_with_the_same_uid_and_a_higher_sequence() -> None:
    appointment = _appointment()
    uid = appointment_uid(appointment.id)
    before = parse(invite_for(appointment)[0])

    cancelled = services.cancel_appointment(
        appointment=appointment, actor=Actor.PATIENT, reason="Can't make it; sorry, work\nshift"
    )
    raw, method = invite_for(cancelled)

    after = parse(raw)
    assert method == "CANCEL"
    assert str(after.ical["METHOD"]) == "CANCEL" == after.vobj.method.value
    event, vevent = after.ical_event(uid), after.vobj_event(uid)
    assert str(event["STATUS"]) == "CANCELLED" == vevent.status.value
    assert event["SEQUENCE"] > before.ical_event(uid)["SEQUENCE"]
    assert int(vevent.sequence.value) > int(before.vobj_event(uid).sequence.value)
    assert not event.walk("VALARM")
    # The reason's comma, semicolon and newline survive escaping in both parsers.
    assert str(event["COMMENT"]) == "Can't make it; sorry, work\nshift" == vevent.comment.value
    assert invite_content_type(method) == "text/calendar; charset=utf-8; method=CANCEL"


def test_the_download_of_a_cancelled_appointment_is_the_cancellation(client) -> None:
    appointment = _appointment(status=AppointmentStatus.CANCELLED, sequence=2)
    response = client.get(_invite_url(appointment, manage_token(appointment)))
    parsed = parse(response.content)
    assert str(parsed.ical["METHOD"]) == "CANCEL"


@pytest.mark.parametrize(
    "day",
    [
        datetime(2026, 3, 6),  # Friday before DST starts (EST)
        datetime(2026, 3, 9),  # Monday after DST starts (EDT)
        datetime(2026, 10, 30),  # Friday before DST ends (EDT)
        datetime(2026, 11, 2),  # Monday after DST ends (EST)
    ],
    ids=["before-spring", "after-spring", "before-fall", "after-fall"],
)
def test_nine_oclock_in_new_york_stays_nine_oclock_across_dst_changes(day: datetime) -> None:
    local = day.replace(hour=9, tzinfo=NY)
    appointment = _appointment(start=local.astimezone(UTC))
    parsed = parse(invite_for(appointment)[0])
    uid = appointment_uid(appointment.id)
    event, vevent = parsed.ical_event(uid), parsed.vobj_event(uid)

    assert event.decoded("DTSTART").astimezone(NY).hour == 9
    assert event.decoded("DTSTART") == local
    # vobject reads the offsets from our VTIMEZONE, not from its own tz database.
    assert vevent.dtstart.value.astimezone(UTC) == local.astimezone(UTC)
    assert vevent.dtstart.value.utcoffset() == local.utcoffset()
    assert vevent.dtstart.value.replace(tzinfo=None) == day.replace(hour=9)
    used = {str(event["DTSTART"].params["TZID"]), str(event["DTEND"].params["TZID"])}
    assert used <= {str(tz["TZID"]) for tz in parsed.ical.walk("VTIMEZONE")}


def test_a_patient_in_utc_gets_utc_times_without_a_vtimezone() -> None:
    appointment = _appointment(patient=PatientFactory(timezone="UTC"))
    raw = invite_for(appointment)[0]
    parsed = parse(raw)
    assert b"DTSTART:20261208T150000Z" in raw
    assert not parsed.ical.walk("VTIMEZONE")


def test_names_with_commas_semicolons_and_newlines_are_escaped() -> None:
    patient = PatientFactory(name='Rivera, Alex; "Al"\nJr', email="al@example.net")
    provider = ProviderFactory(name="Dana; Whitfield, PhD")
    appointment = _appointment(patient=patient, service=ServiceFactory(provider=provider))
    parsed = parse(invite_for(appointment)[0])
    uid = appointment_uid(appointment.id)
    event, vevent = parsed.ical_event(uid), parsed.vobj_event(uid)
    # A parameter cannot hold a newline or a double quote: they become a space and a quote.
    assert event["ATTENDEE"].params["CN"] == "Rivera, Alex; 'Al' Jr"
    assert vevent.attendee.params["CN"] == ["Rivera, Alex; 'Al' Jr"]
    assert str(event["SUMMARY"]) == "Appointment with Dana; P." == vevent.summary.value


def test_long_lines_are_folded_at_75_octets_and_unfold_to_the_same_text() -> None:
    patient = PatientFactory(name="Zoë Ångström-Łukasiewicz " * 6, email="zoe@example.net")
    appointment = _appointment(patient=patient)
    raw = invite_for(appointment)[0]
    parsed = parse(raw)  # checks every line is at most 75 octets
    assert b"\r\n " in raw
    uid = appointment_uid(appointment.id)
    expected = " ".join(patient.name.split())
    assert parsed.ical_event(uid)["ATTENDEE"].params["CN"] == expected
    assert parsed.vobj_event(uid).attendee.params["CN"] == [expected]


def test_invites_never_carry_clinical_words() -> None:
    provider = ProviderFactory(name="Dana Whitfield", kind="addiction_medicine")
    service = ServiceFactory(provider=provider, name="Opioid treatment intake (suboxone)")
    appointment = _appointment(
        service=service, status=AppointmentStatus.CANCELLED, cancel_reason="withdrawal symptoms"
    )
    for status in (AppointmentStatus.CONFIRMED, AppointmentStatus.CANCELLED):
        appointment.status = status
        raw = invite_for(appointment)[0]
        parsed = parse(raw)
        event = parsed.ical_event(appointment_uid(appointment.id))
        for name in ("SUMMARY", "DESCRIPTION", "COMMENT"):
            assert not CLINICAL.search(str(event.get(name, ""))), name
        assert not CLINICAL.search(raw.decode())
        assert "Addiction medicine" not in raw.decode()


def test_google_calendar_link_is_discreet_and_carries_utc_times() -> None:
    provider = ProviderFactory(name="Dana Whitfield", kind="addiction_medicine")
    service = ServiceFactory(provider=provider, name="Methadone counseling")
    appointment = _appointment(service=service)

    url = google_calendar_url(appointment)

    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == (
        "https",
        "calendar.google.com",
        "/calendar/render",
    )
    query = parse_qs(parts.query)
    assert query["action"] == ["TEMPLATE"]
    assert query["text"] == ["Appointment with Dana W."]
    assert query["dates"] == ["20261208T150000Z/20261208T155000Z"]
    assert query["location"] == [appointment.video_url]
    assert appointment.video_url in query["details"][0]
    assert not CLINICAL.search(url.lower().replace("%20", " "))
    assert manage_token(appointment) not in url


def test_the_download_is_named_after_the_patients_local_date(client) -> None:
    # 02:00 UTC on the 9th is still the evening of the 8th in New York.
    appointment = _appointment(start=datetime(2026, 12, 9, 2, 0, tzinfo=UTC))
    response = client.get(_invite_url(appointment, manage_token(appointment)))
    assert response["Content-Disposition"] == 'attachment; filename="appointment-20261208.ics"'
    parse(response.content)


def test_the_provider_signed_in_gets_the_invite_without_a_token(client) -> None:
    user = UserFactory()
    provider = ProviderFactory(user=user)
    appointment = _appointment(service=ServiceFactory(provider=provider))
    client.force_login(user)
    response = client.get(_invite_url(appointment, None))
    assert response.status_code == 200
    parse(response.content)


def test_staff_get_the_invite_with_an_api_token(client) -> None:
    appointment = _appointment()
    key = issue_api_token(user=StaffFactory())
    response = client.get(_invite_url(appointment, None), HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code == 200
    parse(response.content)


def test_another_providers_login_does_not_open_the_invite(client) -> None:
    user = UserFactory()
    ProviderFactory(user=user)
    appointment = _appointment()
    client.force_login(user)
    response = client.get(_invite_url(appointment, None))
    assert response.status_code == 404 and response.content == b""


def test_a_provider_whose_name_or_address_would_tell_is_not_named(client) -> None:
    provider = ProviderFactory(
        name="Recovery Partners of Ohio", email="intake@hoperecovery.example"
    )
    appointment = _appointment(service=ServiceFactory(provider=provider))
    raw = invite_for(appointment)[0]
    parsed = parse(raw)
    event = parsed.ical_event(appointment_uid(appointment.id))
    assert str(event["SUMMARY"]) == "Appointment with your provider"
    assert not CLINICAL.search(raw.decode())
    assert str(event["ORGANIZER"]) == "mailto:appointments@bridgeway.invalid"
    assert not CLINICAL.search(google_calendar_url(appointment).replace("%20", " "))
