"""QA: every bad directory file and slot query is a clear coded error; nothing half-written."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from scheduling.models import Provider
from tests.factories import StaffFactory
from tests.scheduling.qa_reference import qa_document

pytestmark = pytest.mark.django_db

Mutation = Callable[[dict[str, Any]], None]


def _chi(change: dict[str, Any]) -> Mutation:
    return lambda doc: doc["providers"][1].update(change)


def _chi_service(change: dict[str, Any]) -> Mutation:
    return lambda doc: doc["providers"][1]["services"][0].update(change)


BAD: dict[str, tuple[Mutation, str]] = {
    "unknown time zone": (_chi({"timezone": "America/Nowhere"}), "qa-chi.timezone"),
    "abbreviation for a zone": (_chi({"timezone": "CST"}), "qa-chi.timezone"),
    "zone that is not a string": (_chi({"timezone": 5}), "qa-chi.timezone"),
    "override edge in the spring-forward gap": (
        _chi(
            {"overrides": [{"date": "2027-03-14", "windows": [{"start": "02:30", "end": "04:00"}]}]}
        ),
        "qa-chi.overrides[0].windows[0].start",
    ),
    "time off without an offset": (
        _chi({"time_off": [{"start": "2027-03-14T02:30:00", "end": "2027-03-14T04:00:00"}]}),
        "qa-chi.time_off[0].start",
    ),
    "overlapping weekly windows": (
        _chi(
            {
                "weekly_hours": [
                    {"weekday": "mon", "start": "09:00", "end": "12:00"},
                    {"weekday": "mon", "start": "11:00", "end": "13:00"},
                ]
            }
        ),
        "qa-chi.weekly_hours[1]",
    ),
    "overlapping override windows": (
        _chi(
            {
                "overrides": [
                    {
                        "date": "2027-03-15",
                        "windows": [
                            {"start": "09:00", "end": "12:00"},
                            {"start": "11:59", "end": "13:00"},
                        ],
                    }
                ]
            }
        ),
        "qa-chi.overrides[0].windows[1]",
    ),
    "unknown weekday": (
        _chi({"weekly_hours": [{"weekday": "funday", "start": "09:00", "end": "12:00"}]}),
        "qa-chi.weekly_hours[0].weekday",
    ),
    "end before start": (
        _chi({"weekly_hours": [{"weekday": "mon", "start": "12:00", "end": "09:00"}]}),
        "qa-chi.weekly_hours[0].end",
    ),
    "time off ending before it starts": (
        _chi(
            {
                "time_off": [
                    {"start": "2027-03-14T04:00:00-05:00", "end": "2027-03-14T02:00:00-05:00"}
                ]
            }
        ),
        "qa-chi.time_off[0].end",
    ),
    "invalid state": (_chi({"licensed_states": ["ZZ"]}), "qa-chi.licensed_states[0]"),
    "duplicate provider slug": (
        lambda doc: doc["providers"].append(copy.deepcopy(doc["providers"][2])),
        "qa-den.slug",
    ),
    "duplicate service slug": (
        lambda doc: doc["providers"][1]["services"].append(
            copy.deepcopy(doc["providers"][1]["services"][0])
        ),
        "qa-chi.services[1].slug",
    ),
    "horizon of zero days": (_chi_service({"horizon_days": 0}), "qa-chi.services[0].horizon_days"),
    "duration as text": (
        _chi_service({"duration_minutes": "30"}),
        "qa-chi.services[0].duration_minutes",
    ),
    "NUL in a name": (_chi({"name": "Blair\x00Okafor"}), "qa-chi.name"),
}


def bad_document(name: str) -> dict[str, Any]:
    doc = qa_document()
    doc["providers"][0]["name"] = "Must Not Land"  # a valid change in the same file
    BAD[name][0](doc)
    return doc


@pytest.fixture
def imported(tmp_path):
    path = tmp_path / "good.json"
    path.write_text(json.dumps(qa_document()))
    call_command("import_directory", str(path))


def snapshot() -> list[tuple[Any, ...]]:
    return list(
        Provider.objects.order_by("slug").values_list("slug", "name", "timezone", "updated_at")
    )


@pytest.mark.parametrize("name", list(BAD))
def test_the_command_refuses_a_bad_file_naming_the_field_and_writes_nothing(
    imported, tmp_path, capsys, name
):
    before = snapshot()
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad_document(name)))

    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import_directory", str(path))

    assert BAD[name][1] in capsys.readouterr().err
    assert snapshot() == before


@pytest.mark.parametrize("name", list(BAD))
def test_the_api_refuses_a_bad_file_with_invalid_directory_and_writes_nothing(imported, name):
    before = snapshot()
    client = APIClient()
    client.force_authenticate(StaffFactory())

    response = client.post("/api/directory/import/", bad_document(name), format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_directory"
    assert BAD[name][1] in response.json()["fields"]
    assert snapshot() == before


@pytest.mark.parametrize(
    "text", ['{"providers": [ {"slug": "x",', "", "\ufeff{]", '{"providers": []'], ids=repr
)
def test_malformed_json_is_a_clear_error_from_the_command_and_the_api(imported, tmp_path, text):
    path = tmp_path / "broken.json"
    path.write_text(text)
    with pytest.raises(CommandError, match="not valid JSON"):
        call_command("import_directory", str(path))

    client = APIClient()
    client.force_authenticate(StaffFactory())
    response = client.post("/api/directory/import/", text, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] in {"malformed_request", "invalid_directory"}


def test_an_override_window_crossing_the_gap_without_an_edge_in_it_is_accepted(tmp_path):
    doc = qa_document()
    doc["providers"][1]["overrides"] = [
        {"date": "2027-03-14", "windows": [{"start": "01:00", "end": "04:00"}]}
    ]
    path = tmp_path / "ok.json"
    path.write_text(json.dumps(doc))

    call_command("import_directory", str(path))

    assert Provider.objects.filter(slug="qa-chi").exists()


SLOT_ERRORS = [
    ({"tz": "Mars/Base"}, 400, "invalid_timezone"),
    ({"tz": "../../etc/passwd"}, 400, "invalid_timezone"),
    ({"start": "2027-03-10", "end": "2027-03-01"}, 400, "invalid_range"),
    ({"start": "2027-01-01", "end": "2027-03-05"}, 400, "range_too_long"),
    ({"start": "2027-02-30"}, 400, "invalid_date"),
    ({"start": "9999-12-31", "end": "9999-12-31"}, 400, "invalid_date"),
    ({"service": "nope"}, 400, "unknown_service"),
    ({"service": "follow-up"}, 400, "unknown_service"),  # another provider's service
    ({"state": "CA"}, 400, "not_licensed_in_state"),
    ({"state": "ZZ"}, 400, "invalid_state"),
    ({"service": "in\x00take"}, 400, "invalid_parameter"),
    ({"tz": "America/New_York\x00"}, 400, "invalid_parameter"),
]


@pytest.mark.parametrize(("query", "status", "code"), SLOT_ERRORS, ids=repr)
def test_bad_slot_queries_answer_a_coded_error(imported, query, status, code):
    response = APIClient().get("/api/providers/qa-ny/slots/", query)

    assert response.status_code == status
    assert response.json()["code"] == code


@pytest.mark.parametrize(
    "url",
    [
        "/api/providers/nobody/slots/",
        "/api/providers/nobody/",
        "/api/providers/a%00b/",
        "/api/providers/a%00b/slots/",
    ],
)
def test_unknown_provider_slugs_are_404(imported, url):
    response = APIClient().get(url)

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.parametrize("param", ["q", "specialty", "insurance", "language", "state", "kind"])
def test_a_nul_in_a_directory_filter_is_400_not_a_database_error(imported, param):
    response = APIClient().get("/api/providers/", {param: "a\x00b"})

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_parameter"


@pytest.mark.postgres
@pytest.mark.parametrize(
    "url",
    [
        "/api/providers/?q=a%00b",
        "/api/providers/?specialty=a%00",
        "/api/providers/a%00b/",
        "/api/providers/a%00b/slots/",
        "/api/providers/qa-ny/slots/?service=a%00",
    ],
)
def test_on_postgresql_a_nul_never_reaches_a_query(imported, url):
    assert APIClient().get(url).status_code in {400, 404}
