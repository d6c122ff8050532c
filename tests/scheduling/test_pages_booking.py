"""Provider page, slot picker and booking form, through the Django test client."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest
import time_machine

from scheduling.models import Appointment, AppointmentStatus, Patient, TimeOff
from tests.factories import PatientFactory, ServiceFactory, prove_in_session
from tests.scheduling.pages_helpers import (
    NOW,
    NY,
    TUE_9,
    WED_10,
    form_data,
    make_appointment,
    make_service,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def service():
    return make_service()


@pytest.fixture
def client(client):
    """A browser that has done the code step for the form's phone (see test_pages_verification)."""
    prove_in_session(client, "+12125550142")
    return client


def page(client, service_, /, **params):
    query = "&".join(f"{k}={quote(str(v))}" for k, v in params.items())
    return client.get(f"/providers/{service_.provider.slug}/?{query}")


def book_path(service):
    return f"/providers/{service.provider.slug}/book/"


# --- provider page --------------------------------------------------------------------------


def test_an_unknown_provider_is_404(client):
    assert client.get("/providers/nobody/").status_code == 404


def test_without_a_state_the_page_asks_where_the_visitor_is_before_showing_times(client, service):
    response = page(client, service)
    assert response.status_code == 200
    assert "Where are you located?" in response.text
    assert 'class="slots"' not in response.text


def test_a_state_the_provider_is_not_licensed_in_gets_a_plain_explanation(client, service):
    response = page(client, service, state="TX")
    assert "can’t see people located in Texas" in response.text
    assert 'class="slots"' not in response.text
    assert "/?state=TX" in response.text


def test_a_provider_not_taking_new_patients_shows_no_times(client):
    service = make_service(provider_kwargs={"accepting_new_patients": False})
    response = page(client, service, state="NY")
    assert "not taking new patients" in response.text
    assert 'class="slots"' not in response.text


def test_the_picker_opens_on_the_week_of_the_first_opening_in_the_visitors_zone(client, service):
    response = page(client, service, state="NY")
    assert response.status_code == 200
    assert "Week of March 2–8" in response.text
    assert "Tue Mar 3, 9:00 AM EST" in response.text
    assert quote(TUE_9.astimezone(UTC).isoformat(), safe="") in response.text


def test_a_chosen_time_zone_shows_the_same_slots_in_that_zone_and_is_remembered(client, service):
    response = page(client, service, state="NY", tz="America/Los_Angeles")
    assert "Tue Mar 3, 6:00 AM PST" in response.text
    assert response.cookies["bw_tz"].value == "America/Los_Angeles"


def test_the_browsers_zone_from_its_cookie_is_used_when_none_is_chosen(client, service):
    client.cookies["bw_tz"] = "America/Chicago"
    response = page(client, service, state="NY")
    assert "Tue Mar 3, 8:00 AM CST" in response.text
    assert 'data-tz-source="browser"' in response.text


def test_an_unknown_time_zone_is_ignored_rather_than_an_error(client, service):
    response = page(client, service, state="NY", tz="Mars/Olympus")
    assert response.status_code == 200
    assert 'data-tz-source="default"' in response.text


def test_an_empty_week_says_when_the_next_opening_is(client, service):
    TimeOff.objects.create(
        provider=service.provider,
        start=datetime(2026, 3, 9, 0, 0, tzinfo=NY),
        end=datetime(2026, 3, 16, 0, 0, tzinfo=NY),
    )
    response = page(client, service, state="NY", week="2026-03-09")
    assert "No open times this week" in response.text
    # Daylight saving time began on 8 March: the next opening is in EDT.
    assert "Mon Mar 16, 9:00 AM EDT" in response.text
    assert "week=2026-03-16" in response.text


def test_weeks_before_today_are_not_offered(client, service):
    response = page(client, service, state="NY", week="2026-01-05")
    assert "Week of March 2–8" in response.text
    assert "Earlier" not in response.text


def test_a_second_service_can_be_chosen(client, service):
    ServiceFactory(provider=service.provider, slug="group", name="Group", capacity=8, position=1)
    response = page(client, service, state="NY", service="group")
    assert "service=group" in response.text
    assert 'value="group" selected' in response.text


# --- booking form ---------------------------------------------------------------------------


def test_the_form_for_an_unknown_service_is_404(client, service):
    assert client.get(book_path(service) + "?service=nope").status_code == 404


def test_the_form_without_a_valid_start_goes_back_to_the_picker(client, service):
    response = client.get(book_path(service) + f"?service={service.slug}&state=NY&start=soon")
    assert response.status_code == 302
    assert response["Location"].startswith(f"/providers/{service.provider.slug}/?")


def test_the_form_for_a_time_taken_meanwhile_goes_back_to_the_picker_with_a_message(
    client, service
):
    make_appointment(service, WED_10)
    start = quote(WED_10.astimezone(UTC).isoformat())
    response = client.get(
        book_path(service) + f"?service={service.slug}&state=NY&start={start}", follow=True
    )
    assert "no longer available" in response.text
    assert "week=2026-03-02" in response.redirect_chain[0][0]


def test_the_form_shows_the_picked_time_in_the_visitors_zone(client, service):
    start = quote(WED_10.astimezone(UTC).isoformat())
    response = client.get(book_path(service) + f"?service={service.slug}&state=NY&start={start}")
    assert response.status_code == 200
    assert "Wed Mar 4, 10:00 AM EST" in response.text
    assert 'name="sms_consent"' in response.text
    assert "Reply STOP" in response.text


def test_an_incomplete_form_shows_each_error_next_to_its_field_and_books_nothing(client, service):
    response = client.post(book_path(service), form_data(service, WED_10, name="", phone="12"))
    assert response.status_code == 200
    assert "Enter your name." in response.text
    assert "Enter a mobile number with its area code" in response.text
    assert "Please fix the 2 problems below." in response.text
    assert '<a href="#id_phone">Mobile phone number: Enter a mobile number' in response.text
    assert Appointment.objects.count() == 0


def test_a_state_the_provider_is_not_licensed_in_is_refused_next_to_the_state_field(
    client, service
):
    response = client.post(book_path(service), form_data(service, WED_10, state="TX"))
    assert response.status_code == 200
    assert "cannot see patients located in TX" in response.text
    assert Appointment.objects.count() == 0


def test_a_slot_taken_between_picking_and_submitting_returns_to_the_picker(client, service):
    make_appointment(service, WED_10, patient=PatientFactory())
    response = client.post(book_path(service), form_data(service, WED_10), follow=True)
    assert "Someone else just booked that time" in response.text
    assert "Choose a time" in response.text
    assert Appointment.objects.count() == 1


def test_a_good_form_books_and_opens_the_confirmation(client, service):
    response = client.post(book_path(service), form_data(service, WED_10, tz="America/Los_Angeles"))
    assert response.status_code == 302
    appointment = Appointment.objects.get()
    assert appointment.start == WED_10
    assert appointment.status == AppointmentStatus.CONFIRMED
    patient = Patient.objects.get()
    assert (patient.phone, patient.timezone, patient.sms_consent) == (
        "+12125550142",
        "America/Los_Angeles",
        True,
    )
    assert response["Location"].startswith("/m/") and response["Location"].endswith("/booked")
    confirmation = client.get(response["Location"])
    assert "Wed Mar 4, 7:00 AM PST" in confirmation.text


def test_without_the_consent_box_ticked_the_patient_gets_no_texts(client, service):
    client.post(book_path(service), form_data(service, WED_10, sms_consent=None))
    assert Patient.objects.get().sms_consent is False


def test_a_service_that_needs_approval_is_booked_as_a_request(client):
    service = make_service(requires_approval=True)
    response = client.post(book_path(service), form_data(service, WED_10), follow=True)
    assert Appointment.objects.get().status == AppointmentStatus.REQUESTED
    assert "Request sent" in response.text


def test_booking_never_happens_on_a_get(client, service):
    start = quote(WED_10.astimezone(UTC).isoformat())
    client.get(
        book_path(service)
        + f"?service={service.slug}&state=NY&start={start}&name=A+B&phone=2125550142"
    )
    assert Appointment.objects.count() == 0


def test_later_weeks_stop_at_the_services_horizon(client):
    service = make_service(horizon_days=10)
    far = (NOW + timedelta(days=60)).date().isoformat()
    response = page(client, service, state="NY", week=far)
    assert "Later" not in response.text


def test_submitting_the_same_form_twice_shows_the_first_booking_not_an_error(client, service):
    data = form_data(service, WED_10, attempt="form-1")
    first = client.post(book_path(service), data)
    second = client.post(book_path(service), data)
    assert Appointment.objects.count() == 1
    assert second["Location"] == first["Location"]


def test_another_browser_reusing_the_form_value_gets_no_one_elses_booking(client, service):
    from django.test import Client

    data = form_data(service, WED_10, attempt="form-1")
    client.post(book_path(service), data)
    other = Client()
    prove_in_session(other, "+12125550142")
    response = other.post(book_path(service), data, follow=True)
    assert "Someone else just booked that time" in response.text


def test_a_group_session_shows_how_many_seats_are_left(client):
    group = make_service(capacity=3, name="Support group")
    make_appointment(group, WED_10, patient=PatientFactory())
    response = page(client, group, state="NY")
    assert "Wed Mar 4, 10:00 AM EST, 2 seats left" in response.text
    assert "Tue Mar 3, 9:00 AM EST, 3 seats left" in response.text


def test_changing_the_zone_keeps_the_week_being_looked_at(client, service):
    response = page(client, service, state="NY", week="2026-03-09")
    assert '<input type="hidden" name="week" value="2026-03-09">' in response.text
