"""Find a group: GET /api/groups/ and the directory field that opens a peer-led group to
every state."""

from __future__ import annotations

from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from scheduling.directory import DirectoryInvalid, import_directory, validate_directory
from scheduling.directory.export import export_directory
from scheduling.models import ProviderKind, Service
from tests.factories import LanguageFactory
from tests.scheduling.directory_documents import document, provider
from tests.scheduling.waitlist_helpers import NOW, full_group, group_service, one_to_one_service

pytestmark = pytest.mark.django_db


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def _groups(**params: str) -> Any:
    answer = APIClient().get("/api/groups/", params)
    assert answer.status_code == 200, answer.content
    return answer.json()


def test_a_group_is_listed_with_topic_languages_facilitator_and_next_meetings(clock):
    service = group_service(capacity=8)

    [group] = _groups(state="NY", tz="America/Chicago")

    assert group["topic"] == "Tapering peer group"
    assert group["facilitator"] == "Dana Whitfield"
    assert group["languages"] == ["en"]
    assert group["service"] == service.slug
    assert [m["start"] for m in group["meetings"]] == [
        "2026-03-03T17:00:00-06:00",
        "2026-03-10T17:00:00-05:00",
        "2026-03-17T17:00:00-05:00",
    ]
    assert {m["seats_left"] for m in group["meetings"]} == {8}


def test_one_to_one_services_are_not_groups(clock):
    one_to_one_service()

    assert _groups(state="NY") == []


def test_a_full_meeting_is_listed_with_no_seats_left(clock):
    full_group(capacity=2)

    [group] = _groups(state="NY")

    assert [m["seats_left"] for m in group["meetings"]] == [0, 2, 2]


def test_a_clinical_group_is_not_listed_where_its_provider_is_not_licensed(clock):
    group_service(provider_kwargs={"kind": ProviderKind.THERAPIST})

    assert _groups(state="CA") == []


def test_a_peer_group_open_to_all_states_is_listed_everywhere(clock):
    group_service(open_to_all_states=True)

    assert len(_groups(state="CA")) == 1


def test_the_language_filter_keeps_groups_that_speak_it(clock):
    spanish = group_service()
    spanish.provider.languages.add(LanguageFactory(code="es", name="Spanish"))
    group_service()

    assert [g["service"] for g in _groups(state="NY", language="es")] == [spanish.slug]


def test_an_unknown_state_is_a_clear_400(clock):
    answer = APIClient().get("/api/groups/", {"state": "ZZ"})

    assert (answer.status_code, answer.json()["code"]) == (400, "invalid_state")


def _queries_for_groups(count: int) -> int:
    for _ in range(count):
        group_service()
    with CaptureQueriesContext(connection) as queries:
        _groups(state="NY")
    Service.objects.all().delete()
    return len(queries)


def test_the_query_count_does_not_grow_with_the_number_of_groups(clock):
    assert _queries_for_groups(1) == _queries_for_groups(6) == 3


# ---------------------------------------------------------------- the directory field


def _peer_group(kind: str, capacity: int = 10) -> dict[str, Any]:
    service = {
        "slug": "circle",
        "name": "Evening circle",
        "duration_minutes": 60,
        "capacity": capacity,
        "open_to_all_states": True,
    }
    return provider(kind=kind, services=[service])


def test_a_peer_led_group_may_be_open_to_all_states():
    import_directory(document=document(_peer_group("group_facilitator")))

    assert Service.objects.get(slug="circle").open_to_all_states


def test_a_clinical_group_may_not_be_open_to_all_states():
    with pytest.raises(DirectoryInvalid) as refused:
        validate_directory(document(_peer_group("therapist")))

    assert list(refused.value.fields) == ["dana-whitfield.services[0].open_to_all_states"]


def test_a_one_to_one_service_may_not_be_open_to_all_states():
    with pytest.raises(DirectoryInvalid) as refused:
        validate_directory(document(_peer_group("peer_coach", capacity=1)))

    assert "only a group session" in str(refused.value.fields)


def test_the_export_carries_the_field_back():
    import_directory(document=document(_peer_group("peer_coach")))

    [exported] = export_directory()["providers"]

    assert exported["services"][0]["open_to_all_states"] is True
