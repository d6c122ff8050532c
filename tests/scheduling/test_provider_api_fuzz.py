"""No query string makes the directory or slot endpoints answer 500."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.factories import ProviderFactory, ServiceFactory

pytestmark = pytest.mark.django_db

SLOT_PARAMS = ["service", "start", "end", "tz", "state"]
SEARCH_PARAMS = [
    "specialty",
    "state",
    "insurance",
    "language",
    "modality",
    "kind",
    "accepting",
    "q",
    "page",
    "page_size",
]
VALUES = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        [
            "2026-03-08",
            "2026-11-01",
            "0000-00-00",
            "9999-12-31",
            "America/Phoenix",
            "NY",
            "true",
            "-1",
            "0",
            "1e9",
            "%00",
            "\ud7ff",
            "../",
            "' OR 1=1 --",
        ]
    ),
)
FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def provider():
    p = ProviderFactory(slug="fuzz", states=["NY"])
    ServiceFactory(provider=p, slug="intake")
    return p


def clean(params: dict[str, str]) -> dict[str, str]:
    # The test client cannot send lone surrogates or NUL in a URL; browsers percent-encode.
    return {
        k: v.encode("utf-8", "replace").decode("utf-8").replace("\x00", "%00")
        for k, v in params.items()
    }


@FUZZ
@given(params=st.dictionaries(st.sampled_from(SLOT_PARAMS), VALUES, max_size=5))
def test_any_slot_query_is_answered_200_or_400(client, provider, params):
    response = client.get("/api/providers/fuzz/slots/", clean(params))
    assert response.status_code in (200, 400), response.content[:300]
    if response.status_code == 400:
        assert set(response.json()) == {"code", "detail", "fields"}


@FUZZ
@given(params=st.dictionaries(st.sampled_from(SEARCH_PARAMS), VALUES, max_size=6))
def test_any_search_query_is_answered_200_400_or_404(client, provider, params):
    response = client.get("/api/providers/", clean(params))
    assert response.status_code in (200, 400, 404), response.content[:300]
    assert response.json()
