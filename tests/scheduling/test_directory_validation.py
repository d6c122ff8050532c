"""Every kind of bad directory document gets its own error, with a path naming the field."""

from __future__ import annotations

from typing import Any

import pytest

from scheduling.directory import DirectoryInvalid, validate_directory
from tests.scheduling.directory_documents import MARCUS, document, provider


def errors_of(doc: Any) -> dict[str, str]:
    with pytest.raises(DirectoryInvalid) as info:
        validate_directory(doc)
    assert info.value.code == "invalid_directory"
    return info.value.fields


def with_hours(*rows: tuple[str, str, str]) -> dict[str, Any]:
    return provider(weekly_hours=[{"weekday": d, "start": s, "end": e} for d, s, e in rows])


def test_a_valid_document_passes():
    specs = validate_directory(document(provider(), provider(MARCUS)))
    assert [spec.slug for spec in specs] == ["dana-whitfield", "marcus-lee"]


def test_a_document_that_is_not_an_object_is_refused():
    assert errors_of([provider()]) == {"document": 'must be an object {"providers": [...]}'}


def test_a_document_without_providers_is_refused():
    assert errors_of({}) == {"providers": "required"}


def test_unknown_top_level_keys_are_reported():
    doc = document()
    doc["version"] = 2
    assert errors_of(doc) == {"version": "unknown field"}


def test_unknown_provider_keys_are_reported():
    assert errors_of(document(provider(phone="+12125550100"))) == {
        "dana-whitfield.phone": "unknown field"
    }


def test_unknown_service_keys_are_reported():
    dana = provider()
    dana["services"][0]["price"] = 120
    assert errors_of(document(dana)) == {"dana-whitfield.services[0].price": "unknown field"}


@pytest.mark.parametrize("key", ["name", "kind", "timezone", "licensed_states"])
def test_each_required_provider_field_is_reported_by_name(key: str):
    dana = provider()
    del dana[key]
    assert errors_of(document(dana)) == {f"dana-whitfield.{key}": "required"}


def test_a_provider_without_a_slug_is_named_by_its_position():
    dana = provider()
    del dana["slug"]
    assert errors_of(document(provider(MARCUS), dana)) == {"providers[1].slug": "required"}


def test_required_service_fields_are_reported():
    dana = provider(services=[{"slug": "intake"}])
    assert errors_of(document(dana)) == {
        "dana-whitfield.services[0].name": "required",
        "dana-whitfield.services[0].duration_minutes": "required",
    }


def test_a_name_of_the_wrong_type_is_reported():
    assert errors_of(document(provider(name=42))) == {"dana-whitfield.name": "must be a string"}


def test_a_boolean_given_as_a_string_is_reported():
    assert errors_of(document(provider(accepting_new_patients="yes"))) == {
        "dana-whitfield.accepting_new_patients": "must be true or false"
    }


def test_a_list_given_as_an_object_is_reported():
    assert errors_of(document(provider(weekly_hours={"mon": "09:00-17:00"}))) == {
        "dana-whitfield.weekly_hours": "must be a list of {weekday, start, end}"
    }


def test_a_bad_slug_format_is_reported_by_position():
    assert errors_of(document(provider(slug="Dana Whitfield"))) == {
        "providers[0].slug": "'Dana Whitfield' is not a slug (lowercase letters, digits and single hyphens)"
    }


def test_duplicate_provider_slugs_in_one_file_are_reported():
    assert errors_of(document(provider(), provider(MARCUS), provider())) == {
        "dana-whitfield.slug": "duplicate slug: providers[0] and providers[2] both use it"
    }


def test_duplicate_service_slugs_in_one_provider_are_reported():
    dana = provider()
    dana["services"].append(dict(dana["services"][0], name="Another intake"))
    assert errors_of(document(dana)) == {
        "dana-whitfield.services[1].slug": "duplicate service slug 'intake' (also services[0])"
    }


def test_an_unknown_kind_is_reported():
    assert errors_of(document(provider(kind="psychic"))) == {
        "dana-whitfield.kind": "'psychic' is not one of therapist, addiction_medicine, "
        "counselor, peer_coach, group_facilitator"
    }


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "EST", "UTC", "america/chicago", 5])
def test_an_unknown_or_non_area_city_time_zone_is_reported(zone: Any):
    assert errors_of(document(provider(timezone=zone))) == {
        "dana-whitfield.timezone": f"{zone!r} is not an IANA time zone such as America/Chicago"
    }


@pytest.mark.parametrize("state", ["XX", "ny", "New York"])
def test_a_licensed_state_that_is_not_a_usps_code_is_reported(state: str):
    assert errors_of(document(provider(licensed_states=["NJ", state]))) == {
        "dana-whitfield.licensed_states[1]": f"{state!r} is not a USPS state code such as NY"
    }


def test_an_empty_list_of_licensed_states_is_reported():
    assert errors_of(document(provider(licensed_states=[]))) == {
        "dana-whitfield.licensed_states": "must list at least one"
    }


def test_a_state_listed_twice_is_reported():
    assert errors_of(document(provider(licensed_states=["NY", "NY"]))) == {
        "dana-whitfield.licensed_states[1]": "'NY' is listed twice (also licensed_states[0])"
    }


def test_weekday_abbreviations_are_read_in_any_case():
    spec = validate_directory(
        document(with_hours(("Mon", "09:00", "12:00"), ("TUE", "09:00", "12:00")))
    )[0]
    assert [day for day, _, _ in spec.weekly_hours or ()] == [0, 1]


@pytest.mark.parametrize("weekday", ["monday", "funday", 0, None])
def test_an_unknown_weekday_is_reported_whatever_its_form(weekday: Any):
    assert errors_of(document(with_hours((weekday, "09:00", "12:00")))) == {
        "dana-whitfield.weekly_hours[0].weekday": f"{weekday!r} is not one of mon, tue, wed, thu, fri, sat, sun"
    }


def test_an_unknown_weekday_is_reported():
    assert errors_of(document(with_hours(("monday", "09:00", "12:00")))) == {
        "dana-whitfield.weekly_hours[0].weekday": "'monday' is not one of mon, tue, wed, thu, fri, sat, sun"
    }


@pytest.mark.parametrize("value", ["9am", "24:00", "9:00", "09:00:00", 900])
def test_a_time_that_is_not_hh_mm_is_reported(value: Any):
    assert errors_of(document(with_hours(("tue", "08:00", "12:00"), ("mon", value, "12:00")))) == {
        "dana-whitfield.weekly_hours[1].start": f"{value!r} is not a time HH:MM (00:00 to 23:59)"
    }


def test_a_weekly_window_that_ends_before_it_starts_is_reported():
    doc = document(
        with_hours(("mon", "09:00", "12:00"), ("tue", "09:00", "12:00"), ("wed", "17:00", "09:00"))
    )
    assert errors_of(doc) == {"dana-whitfield.weekly_hours[2].end": "must be after start"}


def test_a_weekly_window_that_ends_when_it_starts_is_reported():
    assert errors_of(document(with_hours(("mon", "09:00", "09:00")))) == {
        "dana-whitfield.weekly_hours[0].end": "must be after start"
    }


def test_overlapping_windows_on_the_same_weekday_are_reported():
    doc = document(
        with_hours(("mon", "09:00", "17:00"), ("tue", "10:00", "11:00"), ("mon", "12:00", "13:00"))
    )
    assert errors_of(doc) == {
        "dana-whitfield.weekly_hours[2]": "overlaps weekly_hours[0] (mon 09:00-17:00)"
    }


def test_a_window_inside_an_earlier_long_one_is_reported_even_past_a_short_one():
    doc = document(
        with_hours(("mon", "09:00", "17:00"), ("mon", "10:00", "11:00"), ("mon", "12:00", "13:00"))
    )
    assert errors_of(doc) == {
        "dana-whitfield.weekly_hours[1]": "overlaps weekly_hours[0] (mon 09:00-17:00)",
        "dana-whitfield.weekly_hours[2]": "overlaps weekly_hours[0] (mon 09:00-17:00)",
    }


def test_touching_windows_and_the_same_times_on_other_days_are_fine():
    doc = document(
        with_hours(("mon", "09:00", "12:00"), ("mon", "12:00", "17:00"), ("tue", "09:00", "12:00"))
    )
    assert validate_directory(doc)[0].weekly_hours is not None


def test_overlapping_windows_within_one_override_are_reported():
    dana = provider(
        overrides=[
            {
                "date": "2026-12-27",
                "windows": [{"start": "10:00", "end": "12:00"}, {"start": "11:00", "end": "13:00"}],
            }
        ]
    )
    assert errors_of(document(dana)) == {
        "dana-whitfield.overrides[0].windows[1]": "overlaps windows[0] (10:00-12:00)"
    }


def test_an_override_window_that_ends_before_it_starts_is_reported():
    dana = provider(
        overrides=[{"date": "2026-12-27", "windows": [{"start": "12:00", "end": "10:00"}]}]
    )
    assert errors_of(document(dana)) == {
        "dana-whitfield.overrides[0].windows[0].end": "must be after start"
    }


@pytest.mark.parametrize("value", ["2026-02-30", "12/24/2026", "2026-12-24T00:00", None])
def test_an_invalid_override_date_is_reported(value: Any):
    dana = provider(
        overrides=[{"date": "2026-12-24", "windows": []}, {"date": value, "windows": []}]
    )
    assert errors_of(document(dana)) == {
        "dana-whitfield.overrides[1].date": f"{value!r} is not a date YYYY-MM-DD"
    }


def test_an_override_date_listed_twice_is_reported():
    dana = provider(
        overrides=[
            {"date": "2026-12-24", "windows": []},
            {"date": "2026-12-24", "windows": [{"start": "10:00", "end": "12:00"}]},
        ]
    )
    assert errors_of(document(dana)) == {
        "dana-whitfield.overrides[1].date": "2026-12-24 is listed twice (also overrides[0])"
    }


def test_an_override_without_windows_is_reported():
    dana = provider(overrides=[{"date": "2026-12-24"}])
    assert errors_of(document(dana)) == {
        "dana-whitfield.overrides[0].windows": "required ([] means closed all day)"
    }


def test_naive_time_off_is_reported():
    dana = provider(time_off=[{"start": "2026-12-30T00:00:00", "end": "2027-01-02T00:00:00-05:00"}])
    assert errors_of(document(dana)) == {
        "dana-whitfield.time_off[0].start": "'2026-12-30T00:00:00' has no UTC offset; "
        "write it like 2026-12-30T00:00:00-05:00"
    }


@pytest.mark.parametrize(
    "value", ["2026-12-30", "next tuesday", "2026-13-01T00:00:00Z", 1767070800]
)
def test_time_off_that_is_not_an_iso_datetime_is_reported(value: Any):
    dana = provider(time_off=[{"start": "2026-12-30T00:00:00Z", "end": value}])
    assert errors_of(document(dana)) == {
        "dana-whitfield.time_off[0].end": f"{value!r} is not an ISO datetime such as 2026-12-30T00:00:00-05:00"
    }


def test_time_off_that_ends_before_it_starts_is_reported():
    dana = provider(
        time_off=[{"start": "2027-01-02T00:00:00-05:00", "end": "2027-01-01T23:00:00-05:00"}]
    )
    assert errors_of(document(dana)) == {"dana-whitfield.time_off[0].end": "must be after start"}


def test_time_off_compares_instants_not_wall_clocks():
    # 01:00 in New York is 06:00 UTC: after 05:30 UTC even though 01:00 < 05:30 on the clock.
    dana = provider(
        time_off=[{"start": "2026-12-30T05:30:00Z", "end": "2026-12-30T01:00:00-05:00"}]
    )
    assert validate_directory(document(dana))[0].time_off is not None


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("duration_minutes", 0, "must be from 5 to 480"),
        ("duration_minutes", 481, "must be from 5 to 480"),
        ("duration_minutes", 30.5, "must be a whole number from 5 to 480"),
        ("duration_minutes", "60", "must be a whole number from 5 to 480"),
        ("duration_minutes", True, "must be a whole number from 5 to 480"),
        ("slot_step_minutes", 4, "must be from 5 to 240"),
        ("slot_step_minutes", 241, "must be from 5 to 240"),
        ("capacity", 0, "must be from 1 to 200"),
        ("capacity", 201, "must be from 1 to 200"),
        ("horizon_days", 0, "must be from 1 to 365"),
        ("horizon_days", 366, "must be from 1 to 365"),
        ("min_notice_hours", -1, "must be from 0 to 720"),
        ("min_notice_hours", 721, "must be from 0 to 720"),
        ("buffer_after_minutes", -5, "must be from 0 to 240"),
    ],
)
def test_service_numbers_out_of_bounds_are_reported(key: str, value: Any, message: str):
    dana = provider()
    dana["services"][0][key] = value
    assert errors_of(document(dana)) == {f"dana-whitfield.services[0].{key}": message}


def test_a_service_approval_flag_that_is_not_a_boolean_is_reported():
    dana = provider()
    dana["services"][0]["requires_approval"] = "no"
    assert errors_of(document(dana)) == {
        "dana-whitfield.services[0].requires_approval": "must be true or false"
    }


def test_a_modality_other_than_video_or_phone_is_reported():
    assert errors_of(document(provider(modalities=["video", "in-person"]))) == {
        "dana-whitfield.modalities[1]": "'in-person' is not video or phone"
    }


def test_an_empty_list_of_modalities_is_reported():
    assert errors_of(document(provider(modalities=[]))) == {
        "dana-whitfield.modalities": "must list at least one of video, phone"
    }


@pytest.mark.parametrize("code", ["English", "e", "en_US", "EN"])
def test_a_language_that_is_not_a_bcp47_code_is_reported(code: str):
    assert errors_of(document(provider(languages=["es", code]))) == {
        "dana-whitfield.languages[1]": f"{code!r} is not a language code such as en or es"
    }


def test_regional_language_codes_are_accepted():
    assert validate_directory(document(provider(languages=["en", "es-MX", "zh-Hant"])))


def test_a_specialty_that_is_not_a_slug_is_reported():
    assert errors_of(document(provider(specialties=["Opioid use disorder"]))) == {
        "dana-whitfield.specialties[0]": "'Opioid use disorder' is not a slug such as opioid-use-disorder"
    }


def test_an_invalid_email_is_reported():
    assert errors_of(document(provider(email="dana at clinic"))) == {
        "dana-whitfield.email": "'dana at clinic' is not an email address"
    }


def test_every_error_in_every_provider_is_collected_not_only_the_first():
    dana = with_hours(
        ("mon", "09:00", "12:00"), ("tue", "09:00", "12:00"), ("wed", "17:00", "09:00")
    )
    dana["kind"] = "psychic"
    marcus = provider(MARCUS, timezone="Mars/Olympus_Mons", licensed_states=["ZZ"])
    with pytest.raises(DirectoryInvalid) as info:
        validate_directory(document(dana, marcus))
    assert [e["path"] for e in info.value.errors] == [
        "dana-whitfield.kind",
        "dana-whitfield.weekly_hours[2].end",
        "marcus-lee.timezone",
        "marcus-lee.licensed_states[0]",
    ]
    assert info.value.detail == "The directory has 4 errors; nothing was imported."


def test_null_optional_text_reads_as_empty():
    spec = validate_directory(document(provider(bio=None, credentials=None)))[0]
    assert (spec.values["bio"], spec.values["credentials"]) == ("", "")


def test_a_null_required_name_is_reported():
    assert errors_of(document(provider(name=None))) == {"dana-whitfield.name": "must be a string"}
