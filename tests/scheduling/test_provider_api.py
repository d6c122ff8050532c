"""GET /api/providers/, /api/providers/{slug}/ and /api/providers/{slug}/slots/."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import (
    AppointmentFactory,
    InsuranceFactory,
    LanguageFactory,
    ProviderFactory,
    ServiceFactory,
    SpecialtyFactory,
)

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 2, 27, 17, 0, tzinfo=UTC)  # a Friday, noon in New York


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def provider():
    p = ProviderFactory(
        slug="dana-whitfield",
        name="Dana Whitfield",
        states=["NY", "NJ"],
        hours=[(d, "09:00", "11:00") for d in range(5)],
    )
    ServiceFactory(
        provider=p,
        slug="intake",
        duration_minutes=60,
        slot_step_minutes=60,
        buffer_after_minutes=0,
        min_notice_hours=24,
        position=0,
    )
    return p


def slots(client, slug="dana-whitfield", **params):
    return client.get(f"/api/providers/{slug}/slots/", params)


def assert_error(response, status: int, code: str) -> None:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["code"] == code
    assert body["detail"]


# --- slots: unhappy paths --------------------------------------------------------------------


def test_slots_of_an_unknown_provider_are_404(client):
    assert_error(slots(client, "nobody"), 404, "not_found")


def test_an_unknown_time_zone_is_refused(client, provider):
    assert_error(slots(client, tz="Mars/Olympus_Mons"), 400, "invalid_timezone")
    assert_error(slots(client, tz="../../etc/passwd"), 400, "invalid_timezone")


@pytest.mark.parametrize("zone", ["localtime", "Factory", "posix/America/Chicago", "US/Eastern"])
def test_a_system_or_legacy_zone_name_is_refused(client, provider, zone):
    assert_error(slots(client, tz=zone), 400, "invalid_timezone")


def test_utc_is_accepted_as_a_zone(client, provider):
    assert slots(client, tz="UTC").status_code == 200


@pytest.mark.parametrize(
    "value",
    [
        "2026-02-30",
        "tomorrow",
        "2026-3-1",
        "20260301",
        "0001-01-01",
        "9999-12-31",
        "2026-03-01T00:00",
    ],
)
def test_a_malformed_date_is_refused(client, provider, value):
    assert_error(slots(client, start=value, end="2026-03-05"), 400, "invalid_date")
    assert_error(slots(client, start="2026-03-02", end=value), 400, "invalid_date")


def test_an_end_before_the_start_is_refused(client, provider):
    assert_error(slots(client, start="2026-03-10", end="2026-03-09"), 400, "invalid_range")


def test_a_range_of_63_days_counting_both_ends_is_refused(client, provider):
    assert_error(slots(client, start="2026-03-01", end="2026-05-02"), 400, "range_too_long")


def test_a_range_of_62_days_counting_both_ends_is_served(client, provider):
    assert slots(client, start="2026-03-01", end="2026-05-01").status_code == 200


def test_an_unknown_service_is_refused(client, provider):
    assert_error(slots(client, service="surgery"), 400, "unknown_service")


def test_an_inactive_service_is_unknown(client, provider):
    ServiceFactory(provider=provider, slug="retired", is_active=False)
    assert_error(slots(client, service="retired"), 400, "unknown_service")


def test_a_provider_without_services_answers_unknown_service(client):
    ProviderFactory(slug="no-services")
    assert_error(slots(client, "no-services"), 400, "unknown_service")


def test_an_invalid_state_code_is_refused(client, provider):
    assert_error(slots(client, state="ZZ"), 400, "invalid_state")


def test_a_state_without_a_license_is_refused(client, provider):
    assert_error(slots(client, state="CA"), 400, "not_licensed_in_state")


@pytest.mark.parametrize(
    "params",
    [
        {"start": "\x00"},
        {"tz": "\x00"},
        {"tz": "x" * 5000},
        {"service": "\u202e" * 100},
        {"state": "n\u00fd"},
        {"start": "２０２６-０３-０２"},
        {"end": "-1"},
        {"start": "2026-03-02", "end": "2026-03-02", "tz": ""},
    ],
)
def test_malformed_parameters_never_cause_a_server_error(client, provider, params):
    response = slots(client, **params)
    assert response.status_code in (200, 400)
    if response.status_code == 400:
        assert set(response.json()) == {"code", "detail", "fields"}


# --- slots: answers ---------------------------------------------------------------------------


def test_slots_default_to_the_provider_zone_and_first_service(client, provider):
    response = slots(client, start="2026-03-02", end="2026-03-03")
    assert response.status_code == 200
    assert response.json() == [
        {"start": "2026-03-02T09:00:00-05:00", "end": "2026-03-02T10:00:00-05:00"},
        {"start": "2026-03-02T10:00:00-05:00", "end": "2026-03-02T11:00:00-05:00"},
        {"start": "2026-03-03T09:00:00-05:00", "end": "2026-03-03T10:00:00-05:00"},
        {"start": "2026-03-03T10:00:00-05:00", "end": "2026-03-03T11:00:00-05:00"},
    ]


def test_slots_are_shown_in_the_patients_zone_for_its_local_dates(client, provider):
    # 09:00 in New York is 06:00 in Los Angeles; the dates asked for are LA dates.
    body = slots(client, start="2026-03-02", end="2026-03-02", tz="America/Los_Angeles").json()
    assert [s["start"] for s in body] == ["2026-03-02T06:00:00-08:00", "2026-03-02T07:00:00-08:00"]


def test_nine_oclock_stays_nine_across_the_spring_change(client, provider):
    body = slots(client, start="2026-03-06", end="2026-03-09").json()
    assert [
        s["start"] for s in body if s["start"].endswith(("09:00:00-05:00", "09:00:00-04:00"))
    ] == [
        "2026-03-06T09:00:00-05:00",
        "2026-03-09T09:00:00-04:00",
    ]


def test_booked_time_and_notice_are_not_offered(client, provider):
    service = provider.services.get()
    AppointmentFactory(service=service, start=datetime(2026, 3, 2, 14, 0, tzinfo=UTC))
    body = slots(client, start="2026-02-27", end="2026-03-02").json()
    # Friday 27th and Monday 09:00 (booked) are gone: notice is 24 hours from Friday noon.
    assert [s["start"] for s in body] == ["2026-03-02T10:00:00-05:00"]


def test_group_slots_carry_the_seats_left(client, provider):
    group = ServiceFactory(
        provider=provider,
        slug="circle",
        capacity=6,
        duration_minutes=120,
        slot_step_minutes=120,
        buffer_after_minutes=0,
        min_notice_hours=0,
        position=1,
    )
    AppointmentFactory.create_batch(2, service=group, start=datetime(2026, 3, 2, 14, 0, tzinfo=UTC))
    body = slots(client, service="circle", start="2026-03-02", end="2026-03-02").json()
    assert body == [
        {"start": "2026-03-02T09:00:00-05:00", "end": "2026-03-02T11:00:00-05:00", "seats_left": 4}
    ]


def test_a_licensed_state_may_be_given_in_lower_case(client, provider):
    assert slots(client, state="nj", start="2026-03-02", end="2026-03-02").status_code == 200


# --- profile ----------------------------------------------------------------------------------


def test_an_unknown_profile_is_404(client):
    assert_error(client.get("/api/providers/nobody/"), 404, "not_found")


def test_the_profile_lists_active_services_with_their_rules(client, provider):
    ServiceFactory(provider=provider, slug="retired", is_active=False)
    body = client.get("/api/providers/dana-whitfield/").json()
    assert body["display_name"] == "Dana W."
    assert body["licensed_states"] == ["NJ", "NY"]
    assert body["weekly_hours"][0] == {"weekday": "mon", "start": "09:00", "end": "11:00"}
    [intake] = body["services"]
    assert intake["slug"] == "intake"
    assert intake["duration_minutes"] == 60
    assert intake["is_group"] is False
    assert intake["next_available"] == "2026-03-02T14:00:00+00:00"


# --- search -----------------------------------------------------------------------------------


def search(client, **params):
    return client.get("/api/providers/", params)


@pytest.mark.parametrize(
    "params, code",
    [
        ({"state": "XX"}, "invalid_state"),
        ({"kind": "surgeon"}, "invalid_kind"),
        ({"modality": "fax"}, "invalid_modality"),
        ({"accepting": "maybe"}, "invalid_boolean"),
        ({"specialty": "no-such-thing"}, "unknown_specialty"),
        ({"insurance": "no-such-plan"}, "unknown_insurance"),
        ({"language": "xx"}, "unknown_language"),
        ({"q": "x" * 201}, "query_too_long"),
    ],
)
def test_bad_search_filters_are_refused_with_their_code(client, params, code):
    assert_error(search(client, **params), 400, code)


def test_a_page_past_the_end_is_404(client, provider):
    assert_error(search(client, page=9), 404, "not_found")


def test_search_excludes_providers_not_licensed_in_the_state(client, provider):
    ProviderFactory(slug="west", states=["CA"])
    assert [r["slug"] for r in search(client, state="NY").json()["results"]] == ["dana-whitfield"]
    assert [r["slug"] for r in search(client, state="ca").json()["results"]] == ["west"]


def test_search_filters_by_vocabulary_kind_modality_and_acceptance(client, provider):
    opioid = SpecialtyFactory(slug="opioid-use-disorder")
    medicaid = InsuranceFactory(slug="medicaid")
    spanish = LanguageFactory(code="es", name="Spanish")
    provider.specialties.add(opioid)
    provider.insurance.add(medicaid)
    provider.languages.add(spanish)
    ProviderFactory(
        slug="coach", kind="peer_coach", offers_phone=False, accepting_new_patients=False
    )

    def slugs(**params):
        return [r["slug"] for r in search(client, **params).json()["results"]]

    assert slugs(specialty="opioid-use-disorder") == ["dana-whitfield"]
    assert slugs(insurance="medicaid") == ["dana-whitfield"]
    assert slugs(language="es") == ["dana-whitfield"]
    assert slugs(kind="peer_coach") == ["coach"]
    assert slugs(modality="phone") == ["dana-whitfield"]
    assert slugs(accepting="false") == ["coach"]
    assert slugs(accepting="true", specialty="opioid-use-disorder", state="NJ") == [
        "dana-whitfield"
    ]


def test_q_searches_name_credentials_and_bio(client, provider):
    ProviderFactory(slug="bio", name="Sam Lee", bio="Trauma-informed and bilingual.")
    ProviderFactory(slug="creds", name="Kim Ray", credentials="MD, FASAM")

    def slugs(q):
        return [r["slug"] for r in search(client, q=q).json()["results"]]

    assert slugs("whitfield") == ["dana-whitfield"]
    assert slugs("BILINGUAL") == ["bio"]
    assert slugs("fasam") == ["creds"]


def test_each_result_is_a_card_with_next_available_in_utc(client, provider):
    ProviderFactory(slug="idle", name="Zed Idle")
    body = search(client).json()
    assert body["count"] == 2
    dana, idle = body["results"]
    assert dana == {
        "slug": "dana-whitfield",
        "name": "Dana Whitfield",
        "display_name": "Dana W.",
        "credentials": "LCSW",
        "intro": "",
        "photo_url": "",
        "kind": "therapist",
        "timezone": "America/New_York",
        "licensed_states": ["NJ", "NY"],
        "specialties": [],
        "languages": [],
        "insurance": [],
        "modalities": ["video", "phone"],
        "accepting_new_patients": True,
        "next_available": "2026-03-02T14:00:00+00:00",
        "next_available_service": "intake",
    }
    assert idle["next_available"] is None


def test_next_available_is_for_the_first_service_by_position(client, provider):
    ServiceFactory(
        provider=provider,
        slug="quick",
        position=0,
        duration_minutes=30,
        min_notice_hours=0,
    )
    provider.services.filter(slug="intake").update(position=5)
    [card] = search(client).json()["results"]
    assert card["next_available_service"] == "quick"
    assert card["next_available"] == "2026-03-02T14:00:00+00:00"  # Friday's hours are over


def test_the_directory_takes_the_same_number_of_queries_for_any_page_size(client):
    for n in range(30):
        p = ProviderFactory(slug=f"p{n:02d}", states=["NY", "CA"])
        p.specialties.add(SpecialtyFactory(slug="general"))
        ServiceFactory(provider=p)
        ServiceFactory(provider=p)

    def count(size: int) -> int:
        with CaptureQueriesContext(connection) as queries:
            response = search(client, page_size=size, specialty="general")
        assert response.status_code == 200
        assert len(response.json()["results"]) == min(size, 30)
        assert all(r["next_available"] for r in response.json()["results"])
        return len(queries)

    assert count(2) == count(10) == count(30)
