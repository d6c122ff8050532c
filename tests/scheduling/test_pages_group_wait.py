"""The group finder's "wait for a seat" form: name or alias, phone, texted code, in line."""

from __future__ import annotations

import re

import pytest
import time_machine
from django.test import Client

from scheduling.booking.waitlist.models import WaitlistEntry
from tests.scheduling.test_pages_verification import _masked, texted_code, verification_id
from tests.scheduling.waitlist_helpers import NEXT_TUE_18, NOW, PHONES, TUE_18, full_group

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def wait_path(service) -> str:
    return f"/groups/{service.provider.slug}/wait/"


def form_data(service, **overrides) -> dict[str, str]:
    return {
        "service": service.slug,
        "start": TUE_18.isoformat(),
        "tz": "America/New_York",
        "name": "Kay",
        "phone": "212-555-0199",
        "state": "NY",
        "sms_consent": "on",
        **overrides,
    }


def joined(client: Client, service, **overrides):
    page = client.post(wait_path(service), form_data(service, **overrides))
    return client.post(
        wait_path(service),
        form_data(service, code=texted_code(), verification=verification_id(page), **overrides),
    )


def test_the_finder_links_a_full_meeting_to_its_waitlist_form():
    service, _ = full_group()

    page = Client().get("/groups/", {"state": "NY"}).content.decode()

    link = re.search(r'href="(/groups/[^"]+/wait/\?[^"]+)"', page).group(1).replace("&amp;", "&")
    form = Client().get(link)
    assert form.status_code == 200
    assert "First name or alias" in form.text
    assert "Tue Mar 3, 6:00 PM EST" in form.text


def test_a_meeting_with_a_free_seat_sends_the_visitor_to_the_booking_form():
    service, _ = full_group()

    answer = Client().get(
        wait_path(service),
        {"service": service.slug, "start": NEXT_TUE_18.isoformat(), "state": "NY"},
    )

    assert answer.status_code == 302
    assert f"/providers/{service.provider.slug}/book/" in answer["Location"]


def test_the_form_asks_for_the_texted_code_before_anyone_waits():
    service, _ = full_group()

    page = Client().post(wait_path(service), form_data(service))

    assert page.status_code == 200
    assert "ending in 0199" in page.text and "Join the waitlist" in page.text
    assert not WaitlistEntry.objects.exists()


def test_the_right_code_puts_the_visitor_in_line_and_shows_the_private_link():
    service, _ = full_group()
    client = Client()

    done = joined(client, service)

    assert done.status_code == 302 and done["Location"].startswith("/w/")
    page = client.get(done["Location"]).content.decode()
    assert "You are number <strong>1</strong> in line." in page
    assert done["Location"] in page
    entry = WaitlistEntry.objects.get()
    assert entry.session_start == TUE_18 and entry.patient.name == "Kay"


def test_a_second_visitor_in_line_is_told_number_two(clock):
    service, _ = full_group()
    joined(Client(), service)
    clock.shift(60)

    done = joined(Client(), service, name="Lee", phone="212-555-0198")

    assert "number <strong>2</strong> in line" in Client().get(done["Location"]).text


def test_a_browser_that_proved_the_number_joins_without_a_second_code():
    service, _ = full_group()
    client = Client()
    joined(client, service)
    WaitlistEntry.objects.all().delete()

    again = client.post(wait_path(service), form_data(service))

    assert again.status_code == 302 and WaitlistEntry.objects.count() == 1


def test_a_seat_holders_number_and_a_strangers_get_the_same_page():
    service, _ = full_group()
    seat_holder, stranger = PHONES[0], "+12125550188"

    pages = [
        Client().post(wait_path(service), form_data(service, phone=phone))
        for phone in (seat_holder, stranger)
    ]

    assert pages[0].status_code == pages[1].status_code == 200
    assert _masked(pages[0].text).replace(seat_holder[-4:], "XXXX") == _masked(
        pages[1].text
    ).replace(stranger[-4:], "XXXX")
    assert "Seat0" not in pages[0].text


def test_without_consent_to_texts_the_form_explains_and_no_one_waits():
    service, _ = full_group()
    data = form_data(service)
    del data["sms_consent"]

    page = Client().post(wait_path(service), data)

    assert page.status_code == 400
    assert "Seats are offered by text" in page.text
    assert not WaitlistEntry.objects.exists()


def test_a_seat_holder_is_told_they_already_have_a_seat():
    service, _ = full_group()

    page = joined(Client(), service, phone=PHONES[0])

    assert page.status_code == 409
    assert "You already have a seat in this session." in page.text
