"""The booking page's "repeat" choice: dates checked before booking, then a series (issue 13)."""

from __future__ import annotations

from datetime import datetime

import pytest
import time_machine

from scheduling.models import Appointment, Series
from tests.factories import AppointmentFactory, prove_in_session
from tests.scheduling.pages_helpers import form_data
from tests.scheduling.series_helpers import NOW, NY, TUE_4PM, series_service

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def client(client):
    prove_in_session(client, "+12125550142")
    return client


def book_path(service):
    return f"/providers/{service.provider.slug}/book/"


def test_the_form_offers_repeating_only_where_the_service_allows_it(client):
    allowed, single = series_service(), series_service(series_max_weeks=0)
    start = TUE_4PM.isoformat()
    for service, shown in ((allowed, True), (single, False)):
        html = client.get(
            book_path(service), {"service": service.slug, "state": "NY", "start": start}
        ).content.decode()
        assert ("Check which dates are free" in html) is shown


def test_checking_the_dates_marks_a_taken_one_and_books_nothing(client):
    service = series_service()

    AppointmentFactory(service=service, start=datetime(2027, 3, 9, 16, 0, tzinfo=NY))
    data = form_data(service, TUE_4PM, repeat="1", count="3", preview="1")
    response = client.post(book_path(service), data)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count(": free") == 2
    assert "taken, will not be booked" in html
    assert not Series.objects.exists()


def test_booking_with_repeat_books_the_free_dates_and_opens_the_series_page(client):
    service = series_service()
    response = client.post(book_path(service), form_data(service, TUE_4PM, repeat="2", count="4"))
    assert response.status_code == 302, response.content
    series = Series.objects.get()
    assert response["Location"].startswith("/s/")
    assert Appointment.objects.filter(series=series).count() == 4
    page = client.get(response["Location"])
    assert "Every 2 weeks on Tuesdays at 4:00 PM EST, 4 visits from Mar 2" in page.content.decode()


def test_a_series_whose_every_date_is_taken_says_so_once_and_books_nothing(client):
    from datetime import timedelta

    service = series_service()
    for week in range(3):
        AppointmentFactory(service=service, start=TUE_4PM + timedelta(weeks=week))
    data = form_data(service, TUE_4PM, repeat="1", count="3")

    response = client.post(book_path(service), data, follow=True)

    shown = [str(m) for m in response.context["messages"]]
    assert shown == ["None of those dates is free. Please choose another time."]
    assert not Series.objects.exists()
