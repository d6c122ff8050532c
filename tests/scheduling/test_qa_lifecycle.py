"""QA: one appointment's life seen from outside: replay, tokens, moves, cancel, rebook, invites."""

from __future__ import annotations

import icalendar
import pytest
import time_machine
import vobject
from rest_framework.test import APIClient

from scheduling.models import Appointment
from tests.scheduling.booking_helpers import (
    NOW,
    WED_10,
    WED_11,
    WED_14,
    book,
    make_service,
    payload,
    token_of,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def client() -> APIClient:
    return APIClient()


@pytest.fixture
def service():
    return make_service()


def slot_starts(client, service, tz="America/New_York"):
    response = client.get(
        f"/api/providers/{service.provider.slug}/slots/",
        {"service": service.slug, "start": "2026-03-04", "end": "2026-03-04", "tz": tz},
    )
    return [slot["start"] for slot in response.json()]


def invite(client, booked):
    url = booked["ics_url"].split("://", 1)[1].split("/", 1)[1]
    response = client.get("/" + url)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    cal = icalendar.Calendar.from_ical(response.content)
    event = next(iter(cal.walk("VEVENT")))
    other = vobject.readOne(response.content.decode()).vevent
    assert other.uid.value == str(event["UID"])
    assert other.dtstart.value == event["DTSTART"].dt
    return str(cal["METHOD"]), str(event["UID"]), int(event["SEQUENCE"]), str(event["STATUS"])


def test_a_cancelled_time_can_be_booked_again_by_someone_else(client, service, clock):
    first = book(client, service, WED_10)
    assert WED_10.isoformat() not in slot_starts(client, service)
    url = f"/api/appointments/{first.json()['id']}/cancel/?token={token_of(first)}"
    assert client.post(url, {"reason": "unwell"}, format="json").status_code == 200

    assert WED_10.isoformat() in slot_starts(client, service)
    again = book(client, service, WED_10, patient={"name": "Sam Ortiz", "phone": "+1 212 555 0199"})

    assert again.status_code == 201
    assert Appointment.objects.filter(status="confirmed").count() == 1


def test_a_reschedule_keeps_the_id_and_frees_the_old_time(client, service, clock):
    booked = book(client, service, WED_10).json()
    token = booked["manage_url"].rsplit("/", 1)[-1]

    moved = client.post(
        f"/api/appointments/{booked['id']}/reschedule/?token={token}",
        {"start": WED_14.isoformat()},
        format="json",
    )

    assert moved.status_code == 200
    assert moved.json()["id"] == booked["id"]
    assert WED_10.isoformat() in slot_starts(client, service)
    assert WED_14.isoformat() not in slot_starts(client, service)


def test_a_refused_reschedule_leaves_the_original_exactly_as_it_was(client, service, clock):
    mine = book(client, service, WED_10).json()
    book(client, service, WED_11, patient={"name": "Sam Ortiz", "phone": "+1 212 555 0199"})
    token = mine["manage_url"].rsplit("/", 1)[-1]
    before = client.get(f"/api/appointments/{mine['id']}/?token={token}").json()

    refused = client.post(
        f"/api/appointments/{mine['id']}/reschedule/?token={token}",
        {"start": WED_11.isoformat()},
        format="json",
    )

    assert refused.status_code == 409
    assert refused.json()["code"] == "slot_unavailable"
    assert client.get(f"/api/appointments/{mine['id']}/?token={token}").json() == before


def test_the_answer_shows_times_in_the_patients_zone_with_its_abbreviation(client, service, clock):
    booked = book(client, service, WED_10, patient={"timezone": "America/Los_Angeles"}).json()

    assert booked["start"] == "2026-03-04T07:00:00-08:00"
    assert booked["timezone_abbreviation"] == "PST"
    assert booked["video_url"].startswith("https://")
    assert "/m/" in booked["manage_url"]


def test_the_invite_keeps_its_uid_raises_its_sequence_and_ends_with_a_cancel(
    client, service, clock
):
    booked = book(client, service, WED_10).json()
    token = booked["manage_url"].rsplit("/", 1)[-1]
    method, uid, sequence, status = invite(client, booked)
    assert (method, status) == ("REQUEST", "CONFIRMED")

    client.post(
        f"/api/appointments/{booked['id']}/reschedule/?token={token}",
        {"start": WED_14.isoformat()},
        format="json",
    )
    moved = invite(client, booked)
    client.post(f"/api/appointments/{booked['id']}/cancel/?token={token}", {}, format="json")
    cancelled = invite(client, booked)

    assert moved[0] == "REQUEST" and moved[1] == uid and moved[2] > sequence
    assert cancelled[:2] == ("CANCEL", uid)
    assert cancelled[2] > moved[2]
    assert cancelled[3] == "CANCELLED"


def test_a_replayed_key_returns_the_first_answer_and_a_changed_body_is_409(client, service, clock):
    body = payload(service, WED_10)
    first = client.post("/api/appointments/", body, format="json", HTTP_IDEMPOTENCY_KEY="q-1")
    replay = client.post("/api/appointments/", body, format="json", HTTP_IDEMPOTENCY_KEY="q-1")
    changed = client.post(
        "/api/appointments/",
        payload(service, WED_14),
        format="json",
        HTTP_IDEMPOTENCY_KEY="q-1",
    )

    assert (first.status_code, replay.status_code) == (201, 201)
    assert replay.json() == first.json()
    assert changed.status_code == 409
    assert changed.json()["code"] == "idempotency_key_reused"
    assert Appointment.objects.count() == 1
