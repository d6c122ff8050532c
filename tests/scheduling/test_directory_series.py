"""The directory document says which services may be booked as a series (issue 13)."""

from __future__ import annotations

from typing import Any

import pytest

from scheduling.directory import DirectoryInvalid, import_directory, validate_directory
from scheduling.directory.export import export_directory
from scheduling.models import Service
from tests.scheduling.directory_documents import document, provider

pytestmark = pytest.mark.django_db


def weekly_service(**changes: Any) -> dict[str, Any]:
    service = {
        "slug": "weekly",
        "name": "Weekly session",
        "duration_minutes": 50,
        "horizon_days": 120,
        "series_max_weeks": 16,
    }
    service.update(changes)
    return service


def errors_of(doc: Any) -> dict[str, str]:
    with pytest.raises(DirectoryInvalid) as info:
        validate_directory(doc)
    return info.value.fields


def test_a_service_bookable_as_a_series_imports_and_exports_back_the_same():
    import_directory(document=document(provider(services=[weekly_service()])))
    assert Service.objects.get(slug="weekly").series_max_weeks == 16
    exported = export_directory()
    assert exported["providers"][0]["services"][0]["series_max_weeks"] == 16
    import_directory(document=exported)
    assert export_directory() == exported


def test_a_service_without_the_field_is_booked_one_visit_at_a_time():
    import_directory(document=document(provider()))
    assert Service.objects.get(slug="intake").series_max_weeks == 0


def test_a_series_longer_than_the_booking_horizon_is_refused():
    errors = errors_of(document(provider(services=[weekly_service(horizon_days=60)])))
    assert "horizon_days" in errors["dana-whitfield.services[0].series_max_weeks"]


def test_a_group_session_is_not_booked_as_a_series():
    errors = errors_of(document(provider(services=[weekly_service(capacity=8)])))
    assert "group" in errors["dana-whitfield.services[0].series_max_weeks"]


def test_more_than_52_weeks_is_out_of_bounds():
    errors = errors_of(document(provider(services=[weekly_service(series_max_weeks=60)])))
    assert "dana-whitfield.services[0].series_max_weeks" in errors
