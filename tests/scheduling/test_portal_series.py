"""The provider portal shows a visit's series and ends it from a visit on (issue 13)."""

from __future__ import annotations

import pytest
import time_machine
from rest_framework.test import APIClient

from notifications.models import Notification
from scheduling.models import Appointment, AppointmentStatus
from tests.factories import UserFactory
from tests.scheduling.series_helpers import NOW, TUE_4PM, book_series, series_service

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def booked():
    service = series_service()
    service.provider.user = UserFactory(username="dana")
    service.provider.save()
    body = book_series(APIClient(), service, TUE_4PM, count=6).json()
    return service.provider, body


def test_a_visit_of_a_series_shows_its_rule_and_the_button_to_end_it(client, booked):
    provider, body = booked
    client.force_login(provider.user)
    html = client.get(f"/portal/appointments/{body['appointments'][0]['id']}/").content.decode()
    assert "Part of a series: Weekly on Tuesdays at 4:00 PM EST, 6 visits from Mar 2." in html
    assert "End the series from this visit" in html


def test_ending_the_series_cancels_this_and_later_visits_with_one_message(client, booked):
    provider, body = booked
    client.force_login(provider.user)
    third = body["appointments"][2]["id"]
    response = client.post(f"/portal/appointments/{third}/end-series/")
    assert response.status_code == 302
    statuses = [
        a.status
        for a in Appointment.objects.filter(series_id=body["series"]["id"]).order_by("start")
    ]
    assert statuses == [AppointmentStatus.CONFIRMED] * 2 + [AppointmentStatus.CANCELLED] * 4
    assert Notification.objects.filter(template="series_cancelled", channel="sms").count() == 1
    assert not Notification.objects.filter(template__startswith="cancelled_by").exists()


def test_another_provider_cannot_end_the_series(client, booked):
    _, body = booked
    client.force_login(UserFactory(username="someone-else"))
    response = client.post(f"/portal/appointments/{body['appointments'][0]['id']}/end-series/")
    assert response.status_code in (302, 403, 404)
    assert not Appointment.objects.filter(status=AppointmentStatus.CANCELLED).exists()
