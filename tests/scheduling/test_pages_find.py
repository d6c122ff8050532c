"""Find help: state first, then filters, then cards with the next opening."""

from __future__ import annotations

import pytest
import time_machine

from scheduling.models import ProviderKind
from tests.factories import LanguageFactory, ProviderFactory, ServiceFactory, SpecialtyFactory
from tests.scheduling.pages_helpers import NOW, make_service

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False):
        yield


def test_the_first_question_is_the_state_and_no_one_is_listed_before_it(client):
    make_service()
    response = client.get("/")
    assert response.status_code == 200
    assert '<html lang="en"' in response.text
    assert "Where are you located?" in response.text
    assert 'class="cards"' not in response.text


def test_an_unknown_state_is_an_error_next_to_the_field(client):
    response = client.get("/?state=ZZ")
    assert response.status_code == 200
    assert "Select a valid choice" in response.text
    assert 'class="cards"' not in response.text


def test_every_patient_page_has_the_988_lifeline_in_the_footer(client):
    assert "988" in client.get("/").text
    assert 'href="tel:988"' in client.get("/").text


def test_only_providers_licensed_in_the_state_are_listed_with_their_next_opening(client):
    ny = make_service(provider_kwargs={"name": "Dana Whitfield", "credentials": "LCSW"})
    make_service(provider_kwargs={"name": "Sam Texas", "states": ["TX"]})
    response = client.get("/?state=NY")
    assert "Dana Whitfield" in response.text
    assert "LCSW" in response.text
    assert "Sam Texas" not in response.text
    assert "1 provider can see people in New York" in response.text
    assert "Tue Mar 3, 9:00 AM EST</a>" in response.text
    assert f"/providers/{ny.provider.slug}/?state=NY" in response.text


def test_the_next_opening_is_shown_in_the_visitors_zone(client):
    make_service()
    client.cookies["bw_tz"] = "America/Denver"
    response = client.get("/?state=NY")
    assert "Tue Mar 3, 7:00 AM MST" in response.text


def test_filters_narrow_the_list(client):
    spanish = LanguageFactory(code="es", name="Spanish")
    focus = SpecialtyFactory(slug="family", name="Family")
    coach = ProviderFactory(name="Coach Casey", kind=ProviderKind.PEER_COACH, states=["NY"])
    coach.languages.add(spanish)
    coach.specialties.add(focus)
    ServiceFactory(provider=coach)
    make_service(provider_kwargs={"name": "Dana Whitfield"})
    response = client.get("/?state=NY&kind=peer_coach&language=es&specialty=family")
    assert "Coach Casey" in response.text
    assert "Dana Whitfield" not in response.text
    assert "Speaks Spanish" in response.text


def test_no_match_says_how_to_widen_the_search(client):
    make_service()
    response = client.get("/?state=NY&modality=phone&kind=group_facilitator")
    assert "No one matches all of these choices" in response.text


def test_a_provider_without_open_times_says_so(client):
    make_service(provider_kwargs={"hours": []})
    response = client.get("/?state=NY")
    assert "No open times in the coming weeks" in response.text


def _card_names(response) -> list[str]:
    import re

    return re.findall(r'<h3><a href="/providers/[^"]+">([^<]+)</a>', response.text)


def test_results_are_soonest_first_and_name_is_a_choice(client):
    make_service(provider_kwargs={"name": "Amy Later"}, min_notice_hours=72)
    make_service(provider_kwargs={"name": "Zoe Sooner"})
    make_service(provider_kwargs={"name": "Max Never", "hours": []})
    assert _card_names(client.get("/?state=NY")) == ["Zoe Sooner", "Amy Later", "Max Never"]
    by_name = client.get("/?state=NY&sort=name")
    assert _card_names(by_name) == ["Amy Later", "Max Never", "Zoe Sooner"]


def test_the_next_opening_is_one_tap_to_the_booking_form_for_that_time(client):
    service = make_service(provider_kwargs={"name": "Dana Whitfield"})
    response = client.get("/?state=NY")
    link = (
        f"/providers/{service.provider.slug}/book/?service={service.slug}&amp;state=NY&amp;start="
    )
    assert link in response.text
    href = response.text.split(link)[1].split('"')[0]
    form = client.get(link.replace("&amp;", "&") + href)
    assert form.status_code == 200
    assert "Almost done: your details" in form.text


def test_the_search_costs_the_same_queries_for_two_or_eight_providers(
    client, django_assert_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(2):
        make_service()
    with CaptureQueriesContext(connection) as two:
        client.get("/?state=NY")
    for _ in range(6):
        make_service()
    with django_assert_num_queries(len(two.captured_queries)):
        response = client.get("/?state=NY")
    assert "8 providers can see people in New York" in response.text


def test_a_photo_and_intro_show_on_the_card_and_its_origin_is_allowed_for_images(client):
    make_service(
        provider_kwargs={
            "name": "Dana Whitfield",
            "intro": "I help adults rebuild routines.",
            "photo_url": "https://photos.example.org/dana.jpg",
        }
    )
    response = client.get("/?state=NY")
    assert "I help adults rebuild routines." in response.text
    assert 'src="https://photos.example.org/dana.jpg"' in response.text
    assert "https://photos.example.org" in response["Content-Security-Policy"]
    assert "https://photos.example.org" not in client.get("/")["Content-Security-Policy"]


def test_a_guessed_zone_carries_its_offsets_so_a_browser_that_agrees_asks_nothing(client):
    # New York: 300 minutes behind UTC in January, 240 in July (JavaScript's sign).
    assert 'data-tz-source="default" data-tz-offsets="300,240"' in client.get("/?state=NY").text
    assert 'data-tz-offsets="600,600"' in client.get("/?state=HI").text
