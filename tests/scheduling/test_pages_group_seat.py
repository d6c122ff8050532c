"""The booking form for a group seat: a first name or an alias, and no email needed."""

from __future__ import annotations

import pytest
import time_machine
from django.test import Client

from scheduling.models import Appointment
from tests.scheduling.pages_helpers import form_data
from tests.scheduling.test_pages_verification import texted_code, verification_id
from tests.scheduling.waitlist_helpers import NEXT_TUE_18, NOW, group_service, one_to_one_service

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False):
        yield


def book_path(service) -> str:
    return f"/providers/{service.provider.slug}/book/"


def form_page(service, start) -> str:
    query = {"service": service.slug, "start": start.isoformat(), "state": "NY"}
    return Client().get(book_path(service), query).content.decode()


def test_a_group_seat_asks_for_a_first_name_or_alias():
    page = form_page(group_service(), NEXT_TUE_18)

    assert '<label for="id_name">First name or alias</label>' in page
    assert "Your name" not in page


def test_a_one_to_one_visit_still_asks_for_your_name():
    page = form_page(one_to_one_service(), NEXT_TUE_18.replace(hour=10))

    assert '<label for="id_name">Your name</label>' in page


def test_a_group_seat_is_booked_with_an_alias_and_no_email():
    service = group_service()
    client = Client()
    data = form_data(service, NEXT_TUE_18, name="Moonbeam", email="")

    page = client.post(book_path(service), data)
    done = client.post(
        book_path(service), {**data, "code": texted_code(), "verification": verification_id(page)}
    )

    assert done.status_code == 302 and done["Location"].endswith("/booked")
    seat = Appointment.objects.get()
    assert seat.patient.name == "Moonbeam" and seat.patient.email == ""
