"""The group finder page, the waitlist's private page and the visit page's earlier-time button."""

from __future__ import annotations

import pytest
import time_machine
from django.test import Client

from scheduling.booking import links
from scheduling.booking.services import cancel_appointment
from scheduling.booking.waitlist import offers
from scheduling.booking.waitlist.links import entry_token
from scheduling.booking.waitlist.models import WaitlistEntry, WaitlistStatus
from scheduling.models import Appointment
from tests.scheduling.waitlist_helpers import NOW, PHONES, TUE_18, full_group, group_service, join

pytestmark = pytest.mark.django_db


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def test_the_directory_links_to_the_group_finder(clock):
    assert 'href="/groups/"' in Client().get("/").content.decode()


def test_the_finder_lists_groups_with_meetings_in_the_visitors_zone(clock):
    full_group(capacity=2)

    page = Client().get("/groups/", {"state": "NY", "tz": "America/Chicago"}).content.decode()

    assert "Tapering peer group" in page
    assert "Tue Mar 3, 5:00 PM CST: full (you can join its waitlist)" in page
    assert "Tue Mar 10, 5:00 PM CDT: 2 seats left" in page


def test_a_clinical_group_is_not_shown_where_it_is_not_licensed(clock):
    group_service()

    page = Client().get("/groups/", {"state": "CA"}).content.decode()

    assert "Tapering peer group" not in page


def test_the_waitlist_page_shows_the_place_in_line(clock):
    service, _ = full_group()
    entry = join(service, "Kay", PHONES[5], start=TUE_18)

    page = Client().get(f"/w/{entry_token(entry)}").content.decode()

    assert "You are number <strong>1</strong> in line." in page


def test_taking_the_held_time_on_the_page_books_it(clock):
    service, seats = full_group()
    entry = join(service, "Kay", PHONES[5], start=TUE_18)
    cancel_appointment(appointment=seats[0], actor="patient")
    offers.offer_places(provider_id=service.provider_id)
    client = Client()
    assert "A time is held for you" in client.get(f"/w/{entry_token(entry)}").content.decode()

    answer = client.post(f"/w/{entry_token(entry)}/take")

    booked = Appointment.objects.get(patient=entry.patient)
    assert answer.headers["Location"] == f"/m/{links.manage_token(booked)}/booked"


def test_leaving_on_the_page_takes_the_person_off_the_list(clock):
    service, _ = full_group()
    entry = join(service, "Kay", PHONES[5], start=TUE_18)

    Client().post(f"/w/{entry_token(entry)}/leave")

    entry.refresh_from_db()
    assert entry.status == WaitlistStatus.LEFT


def test_a_visit_page_offers_to_wait_for_an_earlier_time(clock):
    service, seats = full_group()
    token = links.manage_token(seats[0])
    assert f'action="/m/{token}/earlier"' in Client().get(f"/m/{token}").content.decode()

    answer = Client().post(f"/m/{token}/earlier")

    entry = WaitlistEntry.objects.get()
    assert (entry.appointment_id, entry.before) == (seats[0].pk, seats[0].start)
    assert answer.headers["Location"] == f"/w/{entry_token(entry)}"
