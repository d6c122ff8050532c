"""A series after booking: shown, cancelled from a visit on, its calendar entry (issue 13).

Every invite is expanded by icalendar with dateutil and by vobject, each on its own, and
must give exactly the instants of the appointment rows that still hold.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from rest_framework.test import APIClient

from common.events import Actor
from notifications import text
from notifications.models import Notification
from notifications.sealing import unsealer
from scheduling.booking import services
from scheduling.booking.replies import handle_reply
from scheduling.calendar import feeds
from scheduling.models import Appointment, AppointmentStatus, Series
from tests.factories import AppointmentFactory
from tests.scheduling.ical_parsers import (
    expand_series,
    expand_with_recurring_ical_events,
    parse,
    unfolded_lines,
)
from tests.scheduling.series_helpers import (
    CHICAGO,
    NOW,
    NY,
    TUE_4PM,
    book_series,
    series_service,
    starts_of,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def client() -> APIClient:
    return APIClient()


@pytest.fixture
def booked(client):
    response = book_series(client, series_service(), TUE_4PM, count=12)
    assert response.status_code == 201, response.content
    return response.json()


def _invite(client, body) -> bytes:
    series = body["series"]
    response = client.get(f"/api/series/{series['id']}/invite.ics?token={series_token_of(body)}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    return response.content


def series_token_of(body) -> str:
    return body["series"]["manage_url"].rsplit("/", 1)[-1]


def _assert_expands_to_rows(raw: bytes, series_id: str) -> None:
    by_ical, by_vobject = expand_series(raw)
    rows = starts_of(series_id)
    assert by_ical == rows
    assert by_vobject == rows
    assert expand_with_recurring_ical_events(raw) == rows


# --- access ------------------------------------------------------------------------------


def test_a_wrong_token_opens_neither_the_series_nor_its_invite(client, booked):
    series_id = booked["series"]["id"]
    assert client.get(f"/api/series/{series_id}/?token={'x' * 22}").status_code == 404
    response = client.get(f"/api/series/{series_id}/invite.ics?token={'x' * 22}")
    assert response.status_code == 404
    assert response.content == b""
    assert client.post(f"/api/series/{series_id}/cancel/", {}, format="json").status_code == 404


def test_a_visits_own_token_does_not_open_its_series(client, booked):
    visit_token = booked["appointments"][0]["manage_url"].rsplit("/", 1)[-1]
    response = client.get(f"/api/series/{booked['series']['id']}/?token={visit_token}")
    assert response.status_code == 404


def test_the_series_shows_its_rule_and_every_visit(client, booked):
    series_id = booked["series"]["id"]
    response = client.get(f"/api/series/{series_id}/?token={series_token_of(booked)}")
    assert response.status_code == 200
    body = response.json()
    assert (
        body["series"]["rule"]["text"] == "Weekly on Tuesdays at 4:00 PM EST, 12 visits from Mar 2"
    )
    assert len(body["appointments"]) == 12
    assert body["series"]["manage_url"] == booked["series"]["manage_url"]


# --- the calendar entry -------------------------------------------------------------------


def test_the_invite_is_one_rule_in_the_providers_zone_that_expands_to_every_visit(client, booked):
    raw = _invite(client, booked)
    lines = unfolded_lines(raw)
    assert "DTSTART;TZID=America/New_York:20270302T160000" in lines
    assert "RRULE:FREQ=WEEKLY;COUNT=12;INTERVAL=1" in lines or (
        "RRULE:FREQ=WEEKLY;INTERVAL=1;COUNT=12" in lines
    )
    assert len(parse(raw).ical.walk("VTIMEZONE")) == 1
    _assert_expands_to_rows(raw, booked["series"]["id"])


def test_skipped_dates_are_exdates_and_the_invite_still_matches_the_rows(client):
    service = series_service()
    AppointmentFactory(service=service, start=datetime(2027, 3, 16, 16, 0, tzinfo=NY))
    body = book_series(client, service, TUE_4PM, count=6, on_conflict="skip").json()
    raw = _invite(client, body)
    assert any(line.startswith("EXDATE;TZID=America/New_York:") for line in unfolded_lines(raw))
    _assert_expands_to_rows(raw, body["series"]["id"])
    assert len(starts_of(body["series"]["id"])) == 5


def test_every_other_week_in_chicago_across_the_fall_change_expands_exactly(client):
    service = series_service("America/Chicago")
    with time_machine.travel(datetime(2027, 10, 1, 12, tzinfo=UTC), tick=False):
        first = datetime(2027, 10, 19, 9, 0, tzinfo=CHICAGO)
        body = book_series(client, service, first, every_weeks=2, count=5).json()
        raw = _invite(client, body)
    assert "RRULE:FREQ=WEEKLY;INTERVAL=2;COUNT=5" in unfolded_lines(raw) or (
        "RRULE:FREQ=WEEKLY;COUNT=5;INTERVAL=2" in unfolded_lines(raw)
    )
    _assert_expands_to_rows(raw, body["series"]["id"])


def test_a_moved_visit_is_an_exception_with_its_recurrence_id(client, booked):
    visit = Appointment.objects.get(pk=booked["appointments"][2]["id"])
    original = visit.start
    moved_to = datetime(2027, 3, 17, 11, 0, tzinfo=NY)  # the Wednesday after, 11:00
    services.reschedule_appointment(appointment=visit, start=moved_to, actor=Actor.PATIENT)
    raw = _invite(client, booked)
    events = parse(raw).ical_events()
    (exception,) = [e for e in events if "RECURRENCE-ID" in e]
    assert exception.decoded("RECURRENCE-ID") == original
    assert exception.decoded("DTSTART") == moved_to
    _assert_expands_to_rows(raw, booked["series"]["id"])
    assert Series.objects.get(pk=booked["series"]["id"]).sequence == 1


def test_cancelling_one_visit_sends_a_cancel_of_that_recurrence_only(client, booked):
    visit = Appointment.objects.get(pk=booked["appointments"][1]["id"])
    services.cancel_appointment(appointment=visit, actor=Actor.PATIENT)
    email = Notification.objects.get(template="cancelled_by_patient", channel="email")
    (attachment,) = email.attachments
    assert attachment["method"] == "CANCEL"
    (event,) = parse(attachment["content"].encode()).ical_events()
    assert event.decoded("RECURRENCE-ID") == visit.start
    assert str(event["UID"]).startswith("series-")
    _assert_expands_to_rows(_invite(client, booked), booked["series"]["id"])


# --- cancelling this one and every later one ---------------------------------------------


def test_cancel_from_a_visit_cancels_it_and_every_later_one_with_one_message(client, booked):
    series_id = booked["series"]["id"]
    start = booked["appointments"][4]["start"]
    last_id = Notification.objects.order_by("-id").values_list("id", flat=True).first()
    response = client.post(
        f"/api/series/{series_id}/cancel/?token={series_token_of(booked)}",
        {"from": start},
        format="json",
    )
    assert response.status_code == 200, response.content
    statuses = [a.status for a in Appointment.objects.filter(series_id=series_id).order_by("start")]
    assert statuses == [AppointmentStatus.CONFIRMED] * 4 + [AppointmentStatus.CANCELLED] * 8
    new = list(Notification.objects.filter(id__gt=last_id).order_by("id"))
    assert [(n.template, n.channel) for n in new] == [
        ("series_cancelled", "sms"),
        ("series_cancelled", "email"),
    ]
    assert "8 visit(s)" in new[0].body
    pending = Notification.objects.filter(template="reminder", status="pending")
    assert {r.subject_ref for r in pending} == {
        f"appointment:{a['id']}" for a in booked["appointments"][:4]
    }
    _assert_expands_to_rows(_invite(client, booked), series_id)


def test_cancel_from_a_time_that_is_no_visit_of_the_series_is_400(client, booked):
    response = client.post(
        f"/api/series/{booked['series']['id']}/cancel/?token={series_token_of(booked)}",
        {"from": "2027-03-03T16:00:00-05:00"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert not Appointment.objects.filter(status="cancelled").exists()


# --- a text reply ------------------------------------------------------------------------


def test_x_by_text_cancels_the_next_visit_only_and_says_the_rest_stay(client, booked):
    answer = handle_reply(from_number="+12125550142", body="X")
    statuses = [
        a.status
        for a in Appointment.objects.filter(series_id=booked["series"]["id"]).order_by("start")
    ]
    assert statuses == [AppointmentStatus.CANCELLED] + [AppointmentStatus.CONFIRMED] * 11
    assert "Your later visits stay booked" in answer
    assert f"/s/{series_token_of(booked)}" in answer
    assert text.is_gsm7(answer) and text.sms_segments(answer) <= 2
    assert not Notification.objects.filter(template__startswith="cancelled_by", channel="sms")


# --- the private page ----------------------------------------------------------------------


def test_the_series_page_lists_every_visit_with_cancel_this_and_later(client, booked):
    page = client.get(f"/s/{series_token_of(booked)}")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Weekly on Tuesdays at 4:00 PM EST, 12 visits from Mar 2" in html
    assert html.count("Cancel this and later visits") == 12
    assert (
        booked["series"]["ics_url"].replace("&", "&amp;") in html
        or booked["series"]["ics_url"] in html
    )


def test_the_series_page_of_a_wrong_token_is_404(client, booked):
    assert client.get(f"/s/{'x' * 22}").status_code == 404


def test_cancelling_this_and_later_from_the_page_keeps_the_earlier_visits(client, booked):
    token = series_token_of(booked)
    response = client.post(f"/s/{token}/cancel", {"from": booked["appointments"][9]["start"]})
    assert response.status_code == 302
    cancelled = Appointment.objects.filter(
        series_id=booked["series"]["id"], status=AppointmentStatus.CANCELLED
    )
    assert cancelled.count() == 3
    html = client.get(f"/s/{token}").content.decode()
    assert html.count("Cancel this and later visits") == 9


# --- the provider's feed and sealed links ------------------------------------------------------


def test_the_providers_feed_lists_every_visit_of_a_series_at_its_instant(client, booked):
    series = Series.objects.get(pk=booked["series"]["id"])
    token = feeds.feed_token(provider=series.provider)
    raw = client.get(f"/calendar/{token}.ics").content
    events = parse(raw).ical_events()
    assert sorted(e.decoded("DTSTART") for e in events) == starts_of(str(series.pk))
    assert not any("RRULE" in e for e in events)  # expanded: one VEVENT a visit


def test_the_series_link_in_a_recorded_message_is_sealed_and_put_back_at_send_time(booked):
    sms = Notification.objects.get(template="series_confirmed", channel="sms")
    token = series_token_of(booked)
    assert token not in sms.body
    assert f"/s/{token}" in unsealer(sms.subject_ref)(sms.body)
    email = Notification.objects.get(template="series_confirmed", channel="email")
    (attachment,) = email.attachments
    unsealed = unsealer(email.subject_ref)(attachment["content"])
    assert token in unsealed.replace("\r\n ", "")
    _assert_expands_to_rows(unsealed.encode(), booked["series"]["id"])


def test_rescheduling_one_visit_by_the_api_sends_one_text_and_the_series_invite(client, booked):
    visit = booked["appointments"][3]
    assert visit["series"] == booked["series"]["id"]
    token = visit["manage_url"].rsplit("/", 1)[-1]
    last_id = Notification.objects.order_by("-id").values_list("id", flat=True).first()
    moved_to = datetime(2027, 3, 24, 10, 0, tzinfo=NY)
    response = client.post(
        f"/api/appointments/{visit['id']}/reschedule/?token={token}",
        {"start": moved_to.isoformat()},
        format="json",
    )
    assert response.status_code == 200, response.content
    new = Notification.objects.filter(id__gt=last_id).exclude(template="reminder")
    assert sorted((n.template, n.channel) for n in new) == [
        ("provider_rescheduled", "email"),
        ("rescheduled", "email"),
        ("rescheduled", "sms"),
    ]
    (attachment,) = new.get(template="rescheduled", channel="email").attachments
    assert attachment["method"] == "REQUEST"
    _assert_expands_to_rows(attachment["content"].encode(), booked["series"]["id"])


# --- moving this one and every later one --------------------------------------------------


def _move(client, booked, start: str, to: datetime):
    return client.post(
        f"/api/series/{booked['series']['id']}/move/?token={series_token_of(booked)}",
        {"from": start, "start": to.isoformat()},
        format="json",
    )


def test_moving_from_a_visit_moves_every_later_one_to_the_new_weekday_and_time(client, booked):
    last_id = Notification.objects.order_by("-id").values_list("id", flat=True).first()
    response = _move(
        client, booked, booked["appointments"][8]["start"], datetime(2027, 5, 5, 11, 0, tzinfo=NY)
    )
    assert response.status_code == 200, response.content
    rows = Appointment.objects.filter(series_id=booked["series"]["id"]).order_by("series_start")
    local = [(a.start.astimezone(NY).strftime("%a %H:%M")) for a in rows]
    assert local == ["Tue 16:00"] * 8 + ["Wed 11:00"] * 4
    new = Notification.objects.filter(id__gt=last_id).exclude(template="reminder")
    assert sorted((n.template, n.channel) for n in new) == [
        ("series_moved", "email"),
        ("series_moved", "sms"),
    ]
    assert (
        "Weekly on Wednesdays at 11:00 AM EDT, 4 visits from May 5" in new.get(channel="sms").body
    )
    raw = _invite(client, booked)
    assert len([e for e in parse(raw).ical_events() if "RECURRENCE-ID" in e]) == 4
    _assert_expands_to_rows(raw, booked["series"]["id"])


def test_a_move_onto_a_taken_time_moves_nothing_and_lists_it(client, booked):
    taken = datetime(2027, 5, 12, 11, 0, tzinfo=NY)
    AppointmentFactory(service=Series.objects.get(pk=booked["series"]["id"]).service, start=taken)
    before = starts_of(booked["series"]["id"])
    response = _move(
        client, booked, booked["appointments"][8]["start"], datetime(2027, 5, 5, 11, 0, tzinfo=NY)
    )
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "series_conflict"
    assert body["fields"]["conflicts"] == [taken.astimezone(UTC).isoformat()]
    assert starts_of(booked["series"]["id"]) == before
    assert not Notification.objects.filter(template="series_moved").exists()


def test_a_visits_own_invite_download_is_the_series_entry_without_the_series_token(client, booked):
    visit = booked["appointments"][0]
    raw = client.get(visit["ics_url"].replace("http://testserver", "")).content
    (master,) = [e for e in parse(raw).ical_events() if "RECURRENCE-ID" not in e]
    assert str(master["UID"]).startswith("series-")
    assert series_token_of(booked) not in raw.decode().replace("\r\n ", "")
    assert visit["manage_url"].rsplit("/", 1)[-1] in raw.decode().replace("\r\n ", "")
    _assert_expands_to_rows(raw, booked["series"]["id"])


def test_the_series_page_sends_no_referrer(client, booked):
    response = client.get(f"/s/{series_token_of(booked)}")
    assert response["Referrer-Policy"] == "no-referrer"
