"""The provider portal through the Django test client: refusals first, then the work."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from notifications.models import Notification
from scheduling.models import AppointmentStatus, DateOverride, TimeOff, WeeklyHours
from tests.factories import PatientFactory, UserFactory
from tests.scheduling.pages_helpers import NOW, NY, WED_10, make_appointment, make_service

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def service():
    return make_service()


@pytest.fixture
def provider(service):
    provider = service.provider
    provider.user = UserFactory(username="dana")
    provider.save()
    return provider


@pytest.fixture
def portal(client, provider):
    client.force_login(provider.user)
    return client


# --- refusals -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/portal/", "/portal/availability/", "/portal/calendar/"])
def test_the_portal_asks_anonymous_visitors_to_log_in(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


def test_a_login_without_a_provider_profile_is_told_so(client):
    client.force_login(UserFactory(username="someone"))
    response = client.get("/portal/")
    assert response.status_code == 403
    assert "no provider profile" in response.text


def test_another_providers_appointment_is_404(portal, provider):
    other = make_appointment(make_service(), WED_10)
    assert portal.get(f"/portal/appointments/{other.pk}/").status_code == 404
    assert portal.post(f"/portal/appointments/{other.pk}/cancel/").status_code == 404
    other.refresh_from_db()
    assert other.status == AppointmentStatus.CONFIRMED


def test_actions_only_answer_post(portal, service):
    appointment = make_appointment(service, WED_10)
    for action in ("confirm", "attendance", "cancel"):
        assert portal.get(f"/portal/appointments/{appointment.pk}/{action}/").status_code == 405


def test_attendance_before_the_visit_is_refused_with_a_message(portal, service):
    appointment = make_appointment(service, WED_10)
    response = portal.post(
        f"/portal/appointments/{appointment.pk}/attendance/", {"status": "attended"}, follow=True
    )
    assert "only after the start" in response.text
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CONFIRMED


def test_an_unknown_attendance_status_is_refused(portal, service):
    appointment = make_appointment(service, WED_10)
    response = portal.post(
        f"/portal/appointments/{appointment.pk}/attendance/", {"status": "cancelled"}, follow=True
    )
    assert "Choose attended or no-show" in response.text


def test_hours_that_end_before_they_start_are_refused_next_to_the_field(portal, provider):
    before = WeeklyHours.objects.count()
    response = portal.post(
        "/portal/availability/hours/",
        {"hours-weekday": 5, "hours-start": "12:00", "hours-end": "09:00"},
    )
    assert response.status_code == 400
    assert "The end must be after the start." in response.text
    assert WeeklyHours.objects.count() == before


def test_hours_overlapping_existing_hours_are_refused(portal, provider):
    response = portal.post(
        "/portal/availability/hours/",
        {"hours-weekday": 0, "hours-start": "16:00", "hours-end": "18:00"},
    )
    assert response.status_code == 400
    assert "overlap hours you already have" in response.text


def test_an_override_with_unreadable_hours_is_refused(portal, provider):
    response = portal.post(
        "/portal/availability/overrides/",
        {"override-date": "2026-03-10", "override-windows": "nine to noon"},
    )
    assert response.status_code == 400
    assert "is not like 10:00-12:00" in response.text
    assert not DateOverride.objects.exists()


def test_an_override_in_the_past_is_refused(portal, provider):
    response = portal.post("/portal/availability/overrides/", {"override-date": "2026-03-01"})
    assert response.status_code == 400
    assert "Choose today or a later date." in response.text


def test_time_off_that_ends_before_it_starts_is_refused(portal, provider):
    response = portal.post(
        "/portal/availability/time-off/",
        {"off-start": "2026-03-10T12:00", "off-end": "2026-03-10T09:00"},
    )
    assert response.status_code == 400
    assert "The end must be after the start." in response.text
    assert not TimeOff.objects.exists()


def test_another_providers_hours_cannot_be_removed(portal, provider):
    other = make_service().provider
    hours = other.weekly_hours.first()
    assert portal.post(f"/portal/availability/hours/{hours.pk}/delete/").status_code == 404
    assert portal.post("/portal/availability/bogus/1/delete/").status_code == 404
    assert WeeklyHours.objects.filter(pk=hours.pk).exists()


# --- the work -------------------------------------------------------------------------------


def test_login_page_renders_with_real_labels(client):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert '<label for="id_username">' in response.text
    assert 'value="/portal/"' in response.text


def test_logging_in_opens_the_portal(client, provider):
    response = client.post(
        "/accounts/login/",
        {"username": "dana", "password": "correct horse battery staple", "next": "/portal/"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/portal/"


def test_the_schedule_shows_today_and_this_week_in_the_providers_zone(portal, service):
    today = make_appointment(
        service,
        datetime(2026, 3, 2, 15, 0, tzinfo=NY),
        patient=PatientFactory(name="Tara Today"),
    )
    make_appointment(service, WED_10, patient=PatientFactory(name="Wes Wednesday"))
    make_appointment(
        service, datetime(2026, 3, 10, 10, tzinfo=NY), patient=PatientFactory(name="Nina Next")
    )
    make_appointment(make_service(), WED_10, patient=PatientFactory(name="Other Person"))
    text = portal.get("/portal/").text
    assert "Today, Monday, March 2" in text
    assert "Tara Today" in text and "Mon Mar 2, 3:00 PM EST" in text
    assert "Wes Wednesday" in text
    this_week = text.split('id="upcoming-h"')[0]
    assert "Nina Next" not in this_week
    assert "Nina Next" in text.split('id="upcoming-h"')[1]
    assert "Other Person" not in text
    assert f"/portal/appointments/{today.pk}/" in text


def test_requests_waiting_are_listed_first_and_can_be_confirmed(portal):
    service = make_service(requires_approval=True)
    service.provider.user = UserFactory(username="approver")
    service.provider.save()
    portal.force_login(service.provider.user)
    appointment = make_appointment(service, WED_10, status=AppointmentStatus.REQUESTED)
    assert "Requests waiting for you (1)" in portal.get("/portal/").text
    response = portal.post(f"/portal/appointments/{appointment.pk}/confirm/", follow=True)
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CONFIRMED
    assert "Confirmed" in response.text


def test_a_visit_can_be_marked_attended_or_no_show_after_it_starts(portal, provider, service):
    appointment = make_appointment(service, WED_10)
    with time_machine.travel(WED_10 + timedelta(hours=1), tick=False):
        portal.force_login(provider.user)  # days later: the earlier session has idled out
        page = portal.get(f"/portal/appointments/{appointment.pk}/").text
        assert "Mark attended" in page
        portal.post(f"/portal/appointments/{appointment.pk}/attendance/", {"status": "no_show"})
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.NO_SHOW


def test_the_provider_can_cancel_with_a_reason(portal, service):
    appointment = make_appointment(service, WED_10)
    portal.post(f"/portal/appointments/{appointment.pk}/cancel/", {"reason": "Ill"})
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CANCELLED
    assert appointment.cancel_reason == "Ill"


def test_the_appointment_page_shows_its_notification_history(portal, service):
    appointment = make_appointment(service, WED_10)
    Notification.objects.create(
        channel="sms",
        recipient=appointment.patient.phone,
        template="appointment_confirmed",
        body="…",
        status="delivered",
        dedupe_key="k1",
        subject_ref=f"appointment:{appointment.pk}",
    )
    Notification.objects.create(
        channel="sms",
        recipient="+12125550000",
        template="other",
        body="…",
        status="failed",
        last_error="unreachable",
        dedupe_key="k2",
        subject_ref="appointment:someone-else",
    )
    text = portal.get(f"/portal/appointments/{appointment.pk}/").text
    assert "appointment confirmed" in text and "Delivered" in text
    assert "unreachable" not in text


def test_weekly_hours_are_added_and_removed(portal, provider):
    response = portal.post(
        "/portal/availability/hours/",
        {"hours-weekday": 5, "hours-start": "10:00", "hours-end": "13:00"},
    )
    assert response.status_code == 302
    added = WeeklyHours.objects.get(provider=provider, weekday=5)
    assert "Saturday 10:00–13:00" in portal.get("/portal/availability/").text
    portal.post(f"/portal/availability/hours/{added.pk}/delete/")
    assert not WeeklyHours.objects.filter(pk=added.pk).exists()


def test_a_date_override_sets_hours_or_closes_the_day(portal, provider):
    portal.post(
        "/portal/availability/overrides/",
        {"override-date": "2026-03-10", "override-windows": "10:00-12:00"},
    )
    assert DateOverride.objects.get().windows == [{"start": "10:00", "end": "12:00"}]
    portal.post(
        "/portal/availability/overrides/", {"override-date": "2026-03-10", "override-windows": ""}
    )
    assert DateOverride.objects.get().windows == []
    assert "closed" in portal.get("/portal/availability/").text


def test_time_off_is_read_in_the_providers_zone_and_warns_about_booked_visits(
    portal, provider, service
):
    make_appointment(service, WED_10)
    response = portal.post(
        "/portal/availability/time-off/",
        {"off-start": "2026-03-04T00:00", "off-end": "2026-03-05T00:00", "off-note": "Away"},
        follow=True,
    )
    time_off = TimeOff.objects.get()
    assert time_off.start == datetime(2026, 3, 4, 5, 0, tzinfo=UTC)
    assert "You already have 1 appointment then" in response.text


def test_the_calendar_page_shows_the_feed_address_and_rotation_replaces_it(portal, provider):
    first = portal.get("/portal/calendar/").text
    assert "http://testserver/calendar/" in first
    portal.post("/portal/calendar/rotate/")
    second = portal.get("/portal/calendar/").text
    old = first.split('id="feed-url">')[1].split("<")[0]
    new = second.split('id="feed-url">')[1].split("<")[0]
    assert old != new
    assert portal.get(old.replace("http://testserver", "")).status_code == 404
    assert portal.get(new.replace("http://testserver", "")).status_code == 200
