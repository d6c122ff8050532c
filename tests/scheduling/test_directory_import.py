"""Importing writes all or nothing and upserts by slug."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from scheduling.directory import DirectoryInvalid, import_directory
from scheduling.models import (
    Appointment,
    DateOverride,
    Insurance,
    Language,
    Provider,
    ProviderLicense,
    Service,
    Specialty,
    TimeOff,
    WeeklyHours,
)
from tests.factories import AppointmentFactory
from tests.scheduling.directory_documents import MARCUS, document, provider

pytestmark = pytest.mark.django_db


def test_a_file_with_one_bad_provider_writes_nothing_even_for_the_valid_ones():
    bad = provider(MARCUS, timezone="Mars/Olympus_Mons")
    with pytest.raises(DirectoryInvalid):
        import_directory(document=document(provider(), bad))
    assert Provider.objects.count() == 0
    assert Service.objects.count() == 0
    assert Specialty.objects.count() == 0
    assert Language.objects.count() == 0
    assert WeeklyHours.objects.count() == 0


def test_a_bad_file_leaves_an_existing_directory_untouched():
    import_directory(document=document(provider()))
    changed = provider(name="Dana W. Renamed", weekly_hours=[])
    with pytest.raises(DirectoryInvalid):
        import_directory(document=document(changed, provider(MARCUS, kind="psychic")))
    dana = Provider.objects.get(slug="dana-whitfield")
    assert dana.name == "Dana Whitfield"
    assert dana.weekly_hours.count() == 3


def test_the_contract_example_is_imported_with_every_part():
    summary = import_directory(document=document(provider()))
    dana = Provider.objects.get(slug="dana-whitfield")
    assert (dana.name, dana.credentials, dana.kind, dana.timezone) == (
        "Dana Whitfield",
        "LCSW, CADC",
        "therapist",
        "America/New_York",
    )
    assert dana.modalities == ["video", "phone"]
    assert sorted(dana.licenses.values_list("state", flat=True)) == ["NJ", "NY"]
    assert sorted(dana.specialties.values_list("slug", flat=True)) == [
        "benzodiazepines",
        "family-therapy",
        "opioid-use-disorder",
    ]
    assert sorted(dana.languages.values_list("code", flat=True)) == ["en", "es"]
    assert sorted(dana.insurance.values_list("slug", flat=True)) == ["aetna", "medicaid"]
    intake = dana.services.get(slug="intake")
    assert (intake.duration_minutes, intake.buffer_after_minutes, intake.capacity) == (60, 15, 1)
    assert list(dana.weekly_hours.values_list("weekday", "start", "end")) == [
        (0, time(9), time(12)),
        (0, time(13), time(17)),
        (2, time(9), time(17)),
    ]
    assert list(dana.overrides.values_list("date", "windows")) == [
        (date(2026, 12, 24), []),
        (date(2026, 12, 27), [{"start": "10:00", "end": "12:00"}]),
    ]
    off = dana.time_off.get()
    assert (off.start, off.end) == (
        datetime(2026, 12, 30, 5, tzinfo=UTC),
        datetime(2027, 1, 2, 5, tzinfo=UTC),
    )
    assert summary.as_dict()["providers_created"] == 1
    assert summary.services_created == 1


def test_unknown_vocabulary_is_created_with_readable_names():
    summary = import_directory(
        document=document(provider(languages=["en", "ht", "es-MX"], insurance=["bcbs", "medicaid"]))
    )
    assert Specialty.objects.get(slug="opioid-use-disorder").name == "Opioid Use Disorder"
    assert Insurance.objects.get(slug="bcbs").name == "Blue Cross Blue Shield"
    assert Insurance.objects.get(slug="medicaid").name == "Medicaid"
    assert Language.objects.get(code="ht").name == "Haitian Creole"
    assert Language.objects.get(code="es-MX").name == "Spanish (es-MX)"
    assert summary.languages_created == 3
    assert summary.created_insurance == ["bcbs", "medicaid"]


def test_known_vocabulary_keeps_the_name_an_operator_gave_it():
    Specialty.objects.create(slug="opioid-use-disorder", name="OUD (opioids)")
    summary = import_directory(document=document(provider()))
    assert Specialty.objects.get(slug="opioid-use-disorder").name == "OUD (opioids)"
    assert summary.specialties_created == 2


def test_a_second_import_updates_by_slug_instead_of_duplicating():
    import_directory(document=document(provider(), provider(MARCUS)))
    summary = import_directory(
        document=document(provider(name="Dana Whitfield-Ortiz", licensed_states=["NY", "CT"]))
    )
    assert Provider.objects.count() == 2
    dana = Provider.objects.get(slug="dana-whitfield")
    assert dana.name == "Dana Whitfield-Ortiz"
    assert sorted(dana.licenses.values_list("state", flat=True)) == ["CT", "NY"]
    assert ProviderLicense.objects.filter(provider=dana).count() == 2
    assert (summary.providers_created, summary.providers_updated) == (0, 1)
    assert (summary.services_created, summary.services_updated) == (0, 1)


def test_removed_weekly_windows_overrides_and_time_off_are_removed():
    import_directory(document=document(provider()))
    import_directory(
        document=document(
            provider(
                weekly_hours=[{"weekday": "fri", "start": "10:00", "end": "14:00"}],
                overrides=[],
                time_off=[],
            )
        )
    )
    dana = Provider.objects.get(slug="dana-whitfield")
    assert list(dana.weekly_hours.values_list("weekday", "start", "end")) == [
        (4, time(10), time(14))
    ]
    assert DateOverride.objects.count() == 0
    assert TimeOff.objects.count() == 0


def test_lists_left_out_of_the_file_keep_what_is_stored():
    import_directory(document=document(provider()))
    slim = provider()
    for key in ("weekly_hours", "overrides", "time_off", "services", "specialties", "bio"):
        del slim[key]
    import_directory(document=document(slim))
    dana = Provider.objects.get(slug="dana-whitfield")
    assert dana.weekly_hours.count() == 3
    assert dana.overrides.count() == 2
    assert dana.time_off.count() == 1
    assert dana.services.filter(is_active=True).count() == 1
    assert dana.specialties.count() == 3
    assert dana.bio == "Twenty years of helping families."


def test_removed_vocabulary_links_are_unlinked_but_the_vocabulary_stays():
    import_directory(document=document(provider()))
    import_directory(document=document(provider(specialties=["trauma"], languages=["en"])))
    dana = Provider.objects.get(slug="dana-whitfield")
    assert list(dana.specialties.values_list("slug", flat=True)) == ["trauma"]
    assert list(dana.languages.values_list("code", flat=True)) == ["en"]
    assert Specialty.objects.filter(slug="family-therapy").exists()


def test_services_missing_from_the_file_are_deactivated_not_deleted():
    import_directory(document=document(provider()))
    intake = Service.objects.get(slug="intake")
    AppointmentFactory(service=intake, start=datetime(2026, 12, 7, 15, tzinfo=UTC))
    follow_up = {"slug": "follow-up", "name": "Follow-up", "duration_minutes": 50}
    summary = import_directory(document=document(provider(services=[follow_up])))
    intake.refresh_from_db()
    assert intake.is_active is False
    assert Appointment.objects.filter(service=intake).count() == 1
    assert Service.objects.get(slug="follow-up").is_active is True
    assert (summary.services_created, summary.services_deactivated) == (1, 1)


def test_a_deactivated_service_listed_again_is_reactivated_in_file_order():
    import_directory(document=document(provider()))
    follow_up = {"slug": "follow-up", "name": "Follow-up", "duration_minutes": 50}
    import_directory(document=document(provider(services=[follow_up])))
    intake = provider()["services"][0]
    import_directory(document=document(provider(services=[follow_up, intake])))
    services = Service.objects.filter(provider__slug="dana-whitfield", is_active=True)
    assert [s.slug for s in services.order_by("position")] == ["follow-up", "intake"]


def test_the_summary_reads_as_a_sentence():
    summary = import_directory(document=document(provider(), provider(MARCUS)))
    assert str(summary) == (
        "Imported 2 providers (2 created, 0 updated); services: 2 created, 0 updated, "
        "0 deactivated; new vocabulary: 3 specialties, 2 insurance plans, 2 languages."
    )


def _queries_to_import(count: int, prefix: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    doc = document(*(provider(slug=f"{prefix}-{n}") for n in range(count)))
    with CaptureQueriesContext(connection) as queries:
        import_directory(document=doc)
    return len(queries)


def test_the_number_of_queries_does_not_grow_with_the_number_of_providers():
    _queries_to_import(1, "warm")  # creates the vocabulary, which costs its own inserts
    assert _queries_to_import(2, "small") == _queries_to_import(20, "large")


def test_reimporting_an_unchanged_file_takes_the_same_queries_whatever_the_size():
    _queries_to_import(2, "small")
    _queries_to_import(20, "large")
    assert _queries_to_import(2, "small") == _queries_to_import(20, "large")


def test_a_changed_field_is_written_and_bumps_updated_at():
    import_directory(document=document(provider()))
    before = Provider.objects.get().updated_at
    dana = provider(accepting_new_patients=False)
    dana["services"][0]["capacity"] = 8
    import_directory(document=document(dana))
    stored = Provider.objects.get()
    assert stored.accepting_new_patients is False and stored.updated_at > before
    assert Service.objects.get().capacity == 8


def test_a_concurrent_writer_turns_into_a_409_conflict_not_a_500(monkeypatch):
    from django.db import IntegrityError

    from common.errors import Conflict
    from scheduling.directory import writer

    def clash(specs):  # stands in for another import racing this one
        Provider.objects.create(slug="half-written", name="Half", kind="therapist", timezone="UTC")
        raise IntegrityError("duplicate key value violates unique constraint")

    monkeypatch.setattr(writer, "_write", clash)
    with pytest.raises(Conflict) as info:
        import_directory(document=document())
    assert (info.value.code, info.value.status) == ("directory_conflict", 409)
    assert not Provider.objects.filter(slug="half-written").exists()
