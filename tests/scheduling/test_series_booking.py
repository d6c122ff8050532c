"""POST /api/appointments/ with "repeat": a recurring series, refusals first (issue 13)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client
from rest_framework.test import APIClient

from notifications import text
from notifications.models import Notification
from scheduling.audit.models import AuditEvent
from scheduling.models import Appointment, AppointmentEvent, IdempotencyKey, Series
from tests.factories import AppointmentFactory, StaffFactory
from tests.notifications.test_message_privacy import clinical_words
from tests.scheduling.booking_helpers import payload
from tests.scheduling.series_helpers import (
    CHICAGO,
    NOW,
    NY,
    PHOENIX,
    TUE_4PM,
    book_series,
    series_service,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def client() -> APIClient:
    return APIClient()


def weekly(start: datetime, count: int, weeks: int = 1) -> list[datetime]:
    """The wall clock of `start` kept in its zone, `count` times."""
    return [(start + timedelta(weeks=weeks * k)).astimezone(UTC) for k in range(count)]


# --- refusals ---------------------------------------------------------------------------


def test_a_taken_date_refuses_the_whole_series_with_the_taken_start_listed(client):
    service = series_service()
    taken = datetime(2027, 3, 23, 16, 0, tzinfo=NY)
    AppointmentFactory(service=service, start=taken)
    response = book_series(client, service, TUE_4PM, count=6)
    assert response.status_code == 409, response.content
    body = response.json()
    assert body["code"] == "series_conflict"
    assert body["fields"]["conflicts"] == [taken.astimezone(UTC).isoformat()]
    assert Appointment.objects.count() == 1
    assert not Series.objects.exists()
    assert not Notification.objects.exists()


def test_a_service_booked_one_visit_at_a_time_refuses_a_series(client):
    service = series_service(series_max_weeks=0)
    response = book_series(client, service, TUE_4PM, count=4)
    assert response.status_code == 400
    assert response.json()["code"] == "series_not_offered"
    assert not Appointment.objects.exists()


def test_a_series_longer_than_the_service_allows_is_refused(client):
    service = series_service(series_max_weeks=8)
    response = book_series(client, service, TUE_4PM, every_weeks=2, count=5)  # spans 9 weeks
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert not Appointment.objects.exists()


@pytest.mark.parametrize(
    "repeat", [{"every_weeks": 3, "count": 4}, {"every_weeks": 1, "count": 27}]
)
def test_a_rule_outside_every_one_or_two_weeks_and_two_to_26_visits_is_400(client, repeat):
    service = series_service()
    response = client.post(
        "/api/appointments/", payload(service, TUE_4PM, repeat=repeat), format="json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


def test_a_series_without_proof_of_the_phone_is_refused_like_a_booking(client):
    service = series_service()
    response = book_series(client, service, TUE_4PM, count=4, verification=None)
    assert response.status_code == 400
    assert response.json()["code"] == "verification_required"
    assert not Series.objects.exists()


# --- what a series books ------------------------------------------------------------------


def test_a_weekly_series_keeps_the_providers_wall_clock_across_the_spring_change(client):
    service = series_service()
    response = book_series(client, service, TUE_4PM, count=12)
    assert response.status_code == 201, response.content
    rows = Appointment.objects.filter(series_id=response.json()["series"]["id"])
    assert sorted(a.start for a in rows) == weekly(TUE_4PM, 12)
    assert {a.start.astimezone(NY).hour for a in rows} == {16}
    assert {a.start.astimezone(UTC).hour for a in rows} == {21, 20}  # EST, then EDT


def test_every_other_week_books_every_second_tuesday(client):
    service = series_service()
    response = book_series(client, service, TUE_4PM, every_weeks=2, count=6)
    assert response.status_code == 201, response.content
    rows = Appointment.objects.filter(series_id=response.json()["series"]["id"])
    assert sorted(a.start for a in rows) == weekly(TUE_4PM, 6, weeks=2)


def test_a_series_across_the_fall_change_in_chicago_stays_at_nine(client):
    service = series_service("America/Chicago")
    with time_machine.travel(datetime(2027, 10, 1, 12, tzinfo=UTC), tick=False):
        first = datetime(2027, 10, 26, 9, 0, tzinfo=CHICAGO)
        response = book_series(client, service, first, count=4)
    assert response.status_code == 201, response.content
    rows = Appointment.objects.filter(series_id=response.json()["series"]["id"])
    hours = [a.start.astimezone(UTC).hour for a in rows.order_by("start")]
    assert hours == [14, 14, 15, 15]  # 9:00 CDT twice, then 9:00 CST from 9 November


def test_skip_books_the_free_dates_and_lists_the_taken_one(client):
    service = series_service()
    taken = datetime(2027, 3, 16, 16, 0, tzinfo=NY)
    AppointmentFactory(service=service, start=taken)
    response = book_series(client, service, TUE_4PM, count=4, on_conflict="skip")
    assert response.status_code == 201, response.content
    body = response.json()
    assert [s["code"] for s in body["skipped"]] == ["slot_unavailable"]
    assert datetime.fromisoformat(body["skipped"][0]["start"]) == taken
    assert len(body["appointments"]) == 3
    series = Series.objects.get(pk=body["series"]["id"])
    assert series.skipped == [taken.astimezone(UTC).isoformat()]
    assert series.appointments.count() == 3


def test_each_visit_is_an_ordinary_appointment_with_its_own_link_and_event(client):
    service = series_service()
    body = book_series(client, service, TUE_4PM, count=3).json()
    links = {a["manage_url"] for a in body["appointments"]}
    assert len(links) == 3
    assert body["series"]["manage_url"] not in links
    for a in Appointment.objects.filter(series_id=body["series"]["id"]):
        assert a.series_start == a.start
        assert AppointmentEvent.objects.filter(appointment=a, kind="booked").count() == 1


def test_each_visit_of_a_series_is_published_to_a_subscribed_webhook(client):
    from notifications.models import WebhookDelivery, WebhookEndpoint

    WebhookEndpoint.objects.create(
        url="https://hooks.example.org/in", secret="whsec_dGVzdA==", events=["appointment.booked"]
    )
    WebhookEndpoint.objects.create(
        url="https://other.example.org/in",
        secret="whsec_dGVzdA==",
        events=["referral.status_changed"],
    )
    body = book_series(client, series_service(), TUE_4PM, count=3).json()

    published = WebhookDelivery.objects.filter(event_type="appointment.booked")
    assert sorted(d.payload["data"]["appointment"]["id"] for d in published) == sorted(
        a["id"] for a in body["appointments"]
    )
    assert WebhookDelivery.objects.count() == 3


# --- messages ------------------------------------------------------------------------------


def test_one_confirmation_for_the_series_and_reminders_for_each_visit(client, settings):
    service = series_service()
    response = book_series(client, service, TUE_4PM, count=12)
    texts = Notification.objects.filter(channel="sms")
    confirmations = [n for n in texts if n.template == "series_confirmed"]
    assert len(confirmations) == 1
    body = confirmations[0].body
    assert "Weekly on Tuesdays at 4:00 PM EST, 12 visits from Mar 2" in body
    assert text.is_gsm7(body) and text.sms_segments(body) <= 2, body
    assert not clinical_words(body)
    assert response.json()["series"]["manage_url"].rsplit("/", 1)[-1] not in body  # sealed
    reminders = texts.filter(template="reminder")
    assert reminders.count() == 12 * len(set(settings.REMINDER_OFFSETS_HOURS))
    assert not texts.filter(template="booking_confirmed").exists()


def test_a_patient_in_phoenix_is_told_when_the_time_shifts(client):
    service = series_service()
    response = book_series(
        client,
        service,
        TUE_4PM,
        count=6,
        patient={"timezone": "America/Phoenix", "state": "AZ"},
    )
    assert response.status_code == 201, response.content
    body = Notification.objects.get(template="series_confirmed", channel="sms").body
    assert "Weekly on Tuesdays at 2:00 PM MST" in body
    assert "From Mar 16: 1:00 PM MST" in body
    assert text.sms_segments(body) <= 2
    first = Appointment.objects.filter(series_id=response.json()["series"]["id"]).first()
    assert first.start.astimezone(PHOENIX).hour == 14


def test_a_patient_in_the_providers_zone_is_told_of_no_shift(client):
    service = series_service()
    book_series(client, service, TUE_4PM, count=6)
    body = Notification.objects.get(template="series_confirmed", channel="sms").body
    assert "local time changes" not in body


def test_a_series_starting_at_the_second_one_thirty_of_the_fall_back_night_is_refused(client):
    service = series_service("America/Chicago", hours=[(6, "00:00", "23:30")], min_notice_hours=0)
    with time_machine.travel(datetime(2027, 11, 1, 12, tzinfo=UTC), tick=False):
        second = datetime(2027, 11, 7, 7, 30, tzinfo=UTC)  # 01:30 CST
        response = book_series(client, service, second, count=3)
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid"
    assert not Appointment.objects.exists()


def test_a_service_that_needs_approval_is_not_booked_as_a_series(client):
    service = series_service(requires_approval=True)
    response = book_series(client, service, TUE_4PM, count=3)
    assert response.status_code == 400
    assert response.json()["code"] == "series_not_offered"


def test_the_same_idempotency_key_replays_the_series_with_working_links(client):
    service = series_service()
    key = {"HTTP_IDEMPOTENCY_KEY": "series-key-1"}
    body = payload(service, TUE_4PM, repeat={"every_weeks": 1, "count": 3})
    first = client.post("/api/appointments/", body, format="json", **key)
    again = client.post("/api/appointments/", body, format="json", **key)
    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert Series.objects.count() == 1
    assert Appointment.objects.count() == 3


def test_the_visits_of_a_series_share_one_video_room(client):
    body = book_series(client, series_service(), TUE_4PM, count=4).json()
    assert len({a["video_url"] for a in body["appointments"]}) == 1


def test_the_longest_series_books_26_weekly_visits(client):
    service = series_service()
    response = book_series(client, service, TUE_4PM, count=26)
    assert response.status_code == 201, response.content
    rows = Appointment.objects.filter(series_id=response.json()["series"]["id"])
    assert sorted(a.start for a in rows) == weekly(TUE_4PM, 26)


def test_staff_opening_a_stored_series_answer_is_logged_against_the_patient(client):
    service = series_service()
    body = payload(service, TUE_4PM, repeat={"every_weeks": 1, "count": 2})
    client.post("/api/appointments/", body, format="json", HTTP_IDEMPOTENCY_KEY="series-audit")
    stored = IdempotencyKey.objects.get(key="series-audit")
    staff = Client()
    staff.force_login(StaffFactory(is_superuser=True))
    response = staff.get(f"/admin/scheduling/idempotencykey/{stored.pk}/change/")
    assert response.status_code == 200
    patient = Appointment.objects.filter(series__isnull=False).first().patient
    assert AuditEvent.objects.filter(channel="admin", patient=patient).exists()
