"""GET/POST /api/providers/{slug}/calendars/: the provider or staff add and list calendars."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from scheduling.calendar import sync
from scheduling.calendar.models import CalendarSource
from tests.broker import drain_queue
from tests.factories import ProviderFactory, StaffFactory, UserFactory
from tests.scheduling.calendar_server import calendar_server

pytestmark = pytest.mark.django_db

ICS = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nEND:VCALENDAR\r\n"


@pytest.fixture(autouse=True)
def _local_calendars(settings: Any) -> None:
    settings.CALENDAR_ALLOW_PRIVATE_HOSTS = True


@pytest.fixture
def server() -> Any:
    with calendar_server(ICS) as s:
        yield s


def client_for(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def url_of(provider: Any) -> str:
    return f"/api/providers/{provider.slug}/calendars/"


def test_an_anonymous_caller_is_refused():
    provider = ProviderFactory()
    assert APIClient().get(url_of(provider)).status_code in (401, 403)


def test_another_providers_login_gets_404():
    provider = ProviderFactory(user=UserFactory())
    other = ProviderFactory(user=UserFactory())
    response = client_for(other.user).get(url_of(provider))
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_a_private_address_is_refused_with_the_url_field(settings):
    settings.CALENDAR_ALLOW_PRIVATE_HOSTS = False
    provider = ProviderFactory(user=UserFactory())
    response = client_for(provider.user).post(
        url_of(provider), {"kind": "ical_url", "url": "https://10.0.0.1/a.ics"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["fields"].keys() == {"url"}
    assert CalendarSource.objects.count() == 0


def queued_syncs() -> list[int]:
    """The sources whose sync was queued (other tasks are not this test's business)."""
    tasks = drain_queue()
    return [t["args"][0] for t in tasks if t["func"] == "scheduling.tasks.sync_calendar_source"]


def test_the_provider_adds_a_calendar_and_its_first_sync_is_queued(
    server, django_capture_on_commit_callbacks
):
    provider = ProviderFactory(user=UserFactory())
    drain_queue()  # what earlier tests (or runs, on Redis) left behind
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(provider.user).post(
            url_of(provider), {"kind": "ical_url", "url": server.url}, format="json"
        )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["host"] == "127.0.0.1"
    assert "url" not in body and "password" not in body
    source = CalendarSource.objects.get(provider=provider)
    assert queued_syncs() == [source.pk]


def test_a_new_calendar_is_queued_once_not_again_by_the_sweep(
    server, django_capture_on_commit_callbacks
):
    provider = ProviderFactory(user=UserFactory())
    drain_queue()
    with django_capture_on_commit_callbacks(execute=True):
        source = sync.add_source(provider=provider, kind="ical_url", url=server.url)
    assert sync.sync_due_sources() == 0  # the sweep a minute later leaves it to its task
    assert queued_syncs() == [source.pk]


def test_staff_list_a_providers_calendars_with_status_and_busy_count(server):
    provider = ProviderFactory()
    CalendarSource.objects.create(provider=provider, kind="ical_url", url=server.url, busy_count=7)
    response = client_for(StaffFactory()).get(url_of(provider))
    assert response.status_code == 200
    [source] = response.json()
    assert source["status"] == "ok"
    assert source["busy_count"] == 7
    assert server.url not in response.content.decode()


def test_a_schedule_syncs_due_calendars_every_ten_minutes():
    from django_q.models import Schedule

    schedule = Schedule.objects.get(name="scheduling.sync_calendars")
    assert (schedule.func, schedule.minutes) == ("scheduling.tasks.sync_calendars", 10)


def test_the_admin_lists_sources_with_status_and_busy_count(server, client):
    provider = ProviderFactory(name="Dana Whitfield")
    CalendarSource.objects.create(
        provider=provider, kind="ical_url", url=server.url, busy_count=42, status="stale"
    )
    client.force_login(StaffFactory(is_superuser=True))
    response = client.get("/admin/scheduling/calendarsource/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Dana Whitfield" in page
    assert '<td class="field-busy_count">42</td>' in page
    assert server.url not in page
