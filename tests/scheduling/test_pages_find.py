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
    assert "Next opening: <strong>Tue Mar 3, 9:00 AM EST</strong>" in response.text
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
