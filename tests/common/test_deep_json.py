"""Deeply nested JSON is a 400 malformed_request everywhere, never a RecursionError (500)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from common.parsers import MAX_JSON_DEPTH, BoundedJSONParser, parse_json
from tests.factories import StaffFactory
from tests.scheduling.booking_helpers import BOOK_URL, NOW, WED_10, make_service, payload, token_of

DEEP_ARRAY = "[" * 100_000 + "]" * 100_000
DEEP_OBJECT = '{"a":' * 100_000 + "1" + "}" * 100_000


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def _api_views(patterns: list[Any] | None = None, prefix: str = "") -> Iterator[tuple[str, Any]]:
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _api_views(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern) and hasattr(pattern.callback, "cls"):
            yield route, pattern.callback.cls


def _staff_client() -> APIClient:
    client = APIClient()
    client.force_authenticate(StaffFactory())
    return client


def assert_malformed(response: Any) -> None:
    assert response.status_code == 400, response.content[:200]
    assert response.json()["code"] == "malformed_request"
    assert set(response.json()) == {"code", "detail", "fields"}


def test_every_api_view_reads_json_with_the_depth_bounded_parser():
    views = [(route, view) for route, view in _api_views() if route.lstrip("^").startswith("api/")]
    assert len(views) > 10

    for route, view in views:
        json_parsers = [p for p in view().get_parsers() if "json" in p.media_type]
        assert json_parsers, route
        assert all(isinstance(p, BoundedJSONParser) for p in json_parsers), route


@pytest.mark.django_db
@pytest.mark.parametrize("body", [DEEP_ARRAY, DEEP_OBJECT], ids=["array", "object"])
def test_a_deeply_nested_booking_body_is_400_malformed_request(body):
    response = APIClient().post(BOOK_URL, body, content_type="application/json")

    assert_malformed(response)


@pytest.mark.django_db
def test_a_deeply_nested_body_to_an_appointment_action_is_400_malformed_request():
    client = APIClient()
    with time_machine.travel(NOW, tick=False):
        booked = client.post(BOOK_URL, payload(make_service(), WED_10), format="json")
        url = f"/api/appointments/{booked.json()['id']}/cancel/?token={token_of(booked)}"

        response = client.post(url, DEEP_OBJECT, content_type="application/json")

    assert_malformed(response)


@pytest.mark.django_db
def test_a_deeply_nested_referral_is_400_malformed_request():
    response = _staff_client().post("/api/referrals/", DEEP_ARRAY, content_type="application/json")

    assert_malformed(response)


@pytest.mark.django_db
def test_a_deeply_nested_directory_import_is_400_malformed_request():
    response = _staff_client().post(
        "/api/directory/import/", DEEP_OBJECT, content_type="application/json"
    )

    assert_malformed(response)


@pytest.mark.django_db
def test_nesting_python_could_parse_but_no_request_needs_is_refused_too():
    body = _nested(MAX_JSON_DEPTH + 1)

    assert_malformed(APIClient().post(BOOK_URL, body, content_type="application/json"))


def test_the_parser_accepts_nesting_up_to_the_limit():
    assert parse_json(_nested(MAX_JSON_DEPTH)) is not None


@pytest.mark.parametrize(
    "text",
    [_nested(MAX_JSON_DEPTH + 1), DEEP_ARRAY, DEEP_OBJECT, '{"a": [' * 40 + "]}" * 40],
    ids=["one too deep", "deep array", "deep object", "mixed"],
)
def test_the_parser_refuses_deeper_nesting_with_a_value_error(text):
    with pytest.raises(ValueError, match="nested"):
        parse_json(text)


def test_brackets_inside_strings_do_not_count_as_nesting():
    text = '{"a": "' + "[" * 1000 + '"}'

    assert parse_json(text) == {"a": "[" * 1000}
