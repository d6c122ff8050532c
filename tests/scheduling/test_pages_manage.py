"""The private link: confirmation, manage, reschedule and cancel pages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest
import time_machine

from scheduling.models import AppointmentStatus
from tests.factories import PatientFactory
from tests.scheduling.pages_helpers import (
    NOW,
    WED_10,
    WED_11,
    make_appointment,
    make_service,
    manage_path,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def appointment():
    service = make_service(name="First visit")
    return make_appointment(
        service, WED_10, patient=PatientFactory(timezone="America/Chicago", state="NY")
    )


# --- refusals first -------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["", "/booked", "/reschedule"])
def test_a_bad_token_is_404_on_every_page(client, suffix):
    assert client.get(f"/m/not-a-real-token{suffix}").status_code == 404


def test_a_bad_token_is_404_for_cancel_and_cancels_nothing(client, appointment):
    assert client.post("/m/not-a-real-token/cancel", {"reason": "x"}).status_code == 404
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CONFIRMED


def test_cancel_asks_for_confirmation_and_a_get_changes_nothing(client, appointment):
    response = client.get(manage_path(appointment) + "/cancel")
    assert response.status_code == 200
    assert "Cancel your appointment?" in response.text
    assert "Yes, cancel my appointment" in response.text
    assert f'href="{manage_path(appointment)}"' in response.text  # keep it
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CONFIRMED


def test_the_manage_page_links_to_the_cancel_question_instead_of_cancelling(client, appointment):
    response = client.get(manage_path(appointment))
    assert f'href="{manage_path(appointment)}/cancel"' in response.text
    assert 'action="' + manage_path(appointment) + '/cancel"' not in response.text


def test_private_pages_hide_credentials_unless_the_provider_opts_in(client, appointment):
    provider = appointment.provider
    provider.credentials = "LCADC"
    provider.save()
    assert "LCADC" not in client.get(manage_path(appointment)).text
    assert "LCADC" not in client.get(manage_path(appointment) + "/cancel").text
    provider.credentials_on_private_pages = True
    provider.save()
    assert "LCADC" in client.get(manage_path(appointment)).text


def test_the_public_profile_still_lists_credentials(client, appointment):
    provider = appointment.provider
    provider.credentials = "LCADC"
    provider.save()
    assert "LCADC" in client.get(f"/providers/{provider.slug}/?state=NY").text


def test_the_manage_page_only_shows_and_never_changes_anything(client, appointment):
    response = client.get(manage_path(appointment))
    assert response.status_code == 200
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CONFIRMED
    assert appointment.sequence == 0


def test_a_too_long_reason_is_refused_with_the_form_shown_again(client, appointment):
    response = client.post(manage_path(appointment) + "/cancel", {"reason": "x" * 501})
    assert response.status_code == 400
    assert "at most 500 characters" in response.text
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CONFIRMED


def test_a_cancelled_appointment_cannot_be_moved(client, appointment):
    appointment.status = AppointmentStatus.CANCELLED
    appointment.save()
    response = client.get(manage_path(appointment) + "/reschedule", follow=True)
    assert "can no longer be changed online" in response.text


def test_a_reschedule_to_a_time_taken_meanwhile_returns_to_the_picker(client, appointment):
    make_appointment(appointment.service, WED_11, patient=PatientFactory())
    response = client.post(
        manage_path(appointment) + "/reschedule",
        {"start": WED_11.astimezone(UTC).isoformat()},
        follow=True,
    )
    assert "Someone else just booked that time" in response.text
    assert "Choose a new time" in response.text
    appointment.refresh_from_db()
    assert appointment.start == WED_10


def test_a_reschedule_without_a_time_changes_nothing(client, appointment):
    response = client.post(manage_path(appointment) + "/reschedule", {"start": "later"})
    assert response.status_code == 302
    appointment.refresh_from_db()
    assert appointment.start == WED_10


# --- what works -----------------------------------------------------------------------------


def test_the_confirmation_shows_time_in_the_patients_zone_and_every_link(client, appointment):
    response = client.get(manage_path(appointment) + "/booked")
    text = response.text
    assert "You’re booked" in text
    assert "Wed Mar 4, 9:00 AM CST" in text
    assert appointment.video_url in text
    assert f"/api/appointments/{appointment.id}/invite.ics?token=" in text
    assert "calendar.google.com" in text
    assert "http://testserver" + manage_path(appointment) in text


def test_the_manage_page_offers_reschedule_and_cancel(client, appointment):
    text = client.get(manage_path(appointment)).text
    assert "Choose a new time" in text
    assert "Cancel my appointment" in text
    assert "Wed Mar 4, 9:00 AM CST" in text


def test_cancel_with_a_reason_cancels_and_offers_to_book_again(client, appointment):
    response = client.post(
        manage_path(appointment) + "/cancel", {"reason": "Work shift"}, follow=True
    )
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CANCELLED
    assert appointment.cancel_reason == "Work shift"
    assert "Your appointment is cancelled" in response.text
    assert "Book a new time" in response.text
    assert "Cancel my appointment" not in response.text


def test_cancel_without_a_reason_is_fine(client, appointment):
    client.post(manage_path(appointment) + "/cancel", {})
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CANCELLED


def test_the_reschedule_picker_offers_the_appointments_own_neighbourhood(client, appointment):
    response = client.get(manage_path(appointment) + "/reschedule")
    assert response.status_code == 200
    # 10:30 overlaps the current visit, which the move releases, so it is offered.
    assert "Wed Mar 4, 9:30 AM CST" in response.text
    assert manage_path(appointment) + "/reschedule?" in response.text


def test_picking_a_new_time_asks_before_moving(client, appointment):
    start = quote(WED_11.astimezone(UTC).isoformat())
    response = client.get(manage_path(appointment) + f"/reschedule?start={start}")
    assert "Move your appointment?" in response.text
    assert "Wed Mar 4, 10:00 AM CST" in response.text
    appointment.refresh_from_db()
    assert appointment.start == WED_10


def test_moving_changes_the_time_and_says_so(client, appointment):
    response = client.post(
        manage_path(appointment) + "/reschedule",
        {"start": WED_11.astimezone(UTC).isoformat()},
        follow=True,
    )
    appointment.refresh_from_db()
    assert appointment.start == WED_11
    assert "Your appointment is moved" in response.text


def test_a_past_appointment_shows_but_offers_no_changes(client, appointment):
    with time_machine.travel(WED_10 + timedelta(minutes=5), tick=False):
        text = client.get(manage_path(appointment)).text
    assert "can no longer be changed online" in text
    assert "Cancel my appointment" not in text


def test_a_chosen_zone_on_the_manage_page_wins_over_the_booked_one(client, appointment):
    text = client.get(manage_path(appointment) + "?tz=America/Los_Angeles").text
    assert "Wed Mar 4, 7:00 AM PST" in text


def test_patient_pages_say_nothing_clinical_the_profile_does_not(client, appointment):
    text = client.get(manage_path(appointment) + "/booked").text.lower()
    for word in ("addiction", "opioid", "substance", "treatment", "detox", "rehab"):
        assert word not in text


def test_an_unknown_zone_parameter_falls_back_to_the_patients_zone(client, appointment):
    text = client.get(manage_path(appointment) + "?tz=Nowhere").text
    assert "Wed Mar 4, 9:00 AM CST" in text


def test_times_use_the_zone_of_the_day_not_of_today(client):
    service = make_service()
    summer = datetime(2026, 7, 1, 10, 0, tzinfo=UTC)
    appointment = make_appointment(service, summer, patient=PatientFactory())
    text = client.get(manage_path(appointment)).text
    assert "Wed Jul 1, 6:00 AM EDT" in text


def test_private_pages_are_never_cached(client, appointment):
    for suffix in ("", "/booked", "/reschedule"):
        response = client.get(manage_path(appointment) + suffix)
        assert "no-store" in response["Cache-Control"]
