"""The booking form's code step: phone -> texted code -> booked, the same for every number."""

from __future__ import annotations

import re

import pytest
import time_machine
from django.test import Client

from common.phones import phone_hash
from notifications.models import Notification
from scheduling.models import Appointment, Patient
from tests.factories import PatientFactory
from tests.scheduling.pages_helpers import NOW, WED_10, form_data, make_appointment, make_service

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def service():
    return make_service()


def book_path(service):
    return f"/providers/{service.provider.slug}/book/"


def texted_code() -> str:
    body = Notification.objects.filter(template="verification_code").latest("id").body
    return re.search(r"\b(\d{6})\b", body).group(1)


def verification_id(page) -> str:
    return re.search(r'name="verification" value="([^"]+)"', page.text).group(1)


def test_the_form_asks_for_the_texted_code_before_booking(service):
    page = Client().post(book_path(service), form_data(service, WED_10))
    assert page.status_code == 200
    assert 'autocomplete="one-time-code"' in page.text
    assert "ending in 0142" in page.text
    assert not Appointment.objects.exists()
    assert Notification.objects.filter(template="verification_code").count() == 1


def test_the_right_code_books_and_opens_the_confirmation(service):
    client = Client()
    page = client.post(book_path(service), form_data(service, WED_10))
    done = client.post(
        book_path(service),
        form_data(service, WED_10, code=texted_code(), verification=verification_id(page)),
    )
    assert done.status_code == 302 and done["Location"].endswith("/booked")
    assert Appointment.objects.get().patient.phone == "+12125550142"


def test_a_wrong_code_shows_the_code_step_again_with_an_error(service):
    client = Client()
    page = client.post(book_path(service), form_data(service, WED_10))
    wrong = "000000" if texted_code() != "000000" else "111111"
    again = client.post(
        book_path(service),
        form_data(service, WED_10, code=wrong, verification=verification_id(page)),
    )
    assert again.status_code == 400
    assert "That code is not right" in again.text
    assert not Appointment.objects.exists()


def test_a_second_booking_in_the_same_browser_needs_no_second_code(service):
    client = Client()
    page = client.post(book_path(service), form_data(service, WED_10))
    client.post(
        book_path(service),
        form_data(service, WED_10, code=texted_code(), verification=verification_id(page)),
    )
    other = make_service()
    assert client.post(book_path(other), form_data(other, WED_10)).status_code == 302


def _masked(text: str) -> str:
    return re.sub(r'value="[0-9a-f-]{36}"|name="csrfmiddlewaretoken" value="[^"]+"', "", text)


def test_a_patients_number_and_a_strangers_get_the_same_page(service):
    known = PatientFactory(phone="+12125550177", name="Robin Real")
    make_appointment(service, WED_10.replace(hour=11), patient=known)
    pages = [
        Client().post(book_path(service), form_data(service, WED_10, phone=phone))
        for phone in ("212-555-0177", "212-555-0188")
    ]
    assert pages[0].status_code == pages[1].status_code == 200
    assert _masked(pages[0].text).replace("0177", "XXXX") == _masked(pages[1].text).replace(
        "0188", "XXXX"
    )
    assert "Robin" not in pages[0].text
    assert Patient.objects.get(phone_hash=phone_hash("+12125550177")).name == "Robin Real"


def test_the_form_is_rate_limited_per_address(settings, service):
    settings.BOOKING_RATE_LIMIT = "2/min"
    client = Client()
    answers = [
        client.post(book_path(service), form_data(service, WED_10)).status_code for _ in range(4)
    ]
    assert answers[:2] == [200, 200] and answers[2:] == [429, 429]
