"""Who runs the service and how it uses a booker's details: on the form and in the footer."""

from __future__ import annotations

import pytest
import time_machine

from tests.scheduling.pages_helpers import NOW, make_service

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False):
        yield


def book_form(client, service):
    picker = client.get(f"/providers/{service.provider.slug}/?state=NY&service={service.slug}")
    href = picker.text.split(f'href="/providers/{service.provider.slug}/book/?')[1].split('"')[0]
    return client.get(f"/providers/{service.provider.slug}/book/?{href.replace('&amp;', '&')}")


def test_the_footer_names_the_operator_and_says_how_details_are_used(client):
    footer = client.get("/").text.split('<footer class="site-footer">')[1]
    assert "This service is run by Bridgeway." in footer
    assert "never say what kind of care you get" in footer


def test_the_booking_form_says_who_sees_the_details_before_the_booker_sends_them(client):
    service = make_service(provider_kwargs={"name": "Dana Whitfield"})
    form = book_form(client, service).text.split('<form method="post"')[1]
    assert "Who sees this: Bridgeway" in form
    assert "and Dana W." in form
    assert "We do not sell or share your details." in form


def test_the_operator_note_and_privacy_link_are_configurable(client, settings):
    settings.OPERATOR_NAME = "Lakeside Recovery Network"
    settings.PRIVACY_NOTE = "Only our scheduling staff see what you type here."
    settings.PRIVACY_URL = "https://lakeside.example.org/privacy"
    page = client.get("/").text
    assert "This service is run by Lakeside Recovery Network." in page
    assert "Only our scheduling staff see what you type here." in page
    assert 'href="https://lakeside.example.org/privacy"' in page


def test_a_privacy_link_that_is_not_https_is_not_shown(client, settings):
    settings.PRIVACY_URL = "javascript:alert(1)"
    assert "javascript:" not in client.get("/").text
