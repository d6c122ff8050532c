"""export_directory writes the import format back: export, import, export is a fixed point."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from scheduling.directory import import_directory, validate_directory
from scheduling.directory.export import export_directory
from scheduling.models import Provider, Service
from tests.scheduling.directory_documents import MARCUS, document, provider

pytestmark = pytest.mark.django_db


def test_an_exported_directory_is_a_valid_import_document():
    import_directory(document=document(provider(), provider(MARCUS)))
    exported = export_directory()
    assert [spec.slug for spec in validate_directory(exported)] == ["dana-whitfield", "marcus-lee"]


def test_importing_an_export_changes_nothing():
    import_directory(document=document(provider(), provider(MARCUS)))
    first = export_directory()
    stamps = dict(Provider.objects.values_list("slug", "updated_at"))
    summary = import_directory(document=first)
    assert export_directory() == first
    assert dict(Provider.objects.values_list("slug", "updated_at")) == stamps
    assert summary.services_deactivated == 0


def test_the_export_carries_times_with_offsets_and_wall_clock_hours():
    import_directory(document=document(provider()))
    dana = export_directory(slugs=["dana-whitfield"])["providers"][0]
    assert dana["weekly_hours"][0] == {"weekday": "mon", "start": "09:00", "end": "12:00"}
    assert dana["time_off"][0]["start"] == "2026-12-30T05:00:00+00:00"
    assert dana["modalities"] == ["video", "phone"]


def test_deactivated_services_are_left_out():
    import_directory(document=document(provider()))
    Service.objects.update(is_active=False)
    assert export_directory()["providers"][0]["services"] == []


def test_the_command_output_imports_back_through_the_command(tmp_path: Path):
    import_directory(document=document(provider(), provider(MARCUS)))
    out = StringIO()
    call_command("export_directory", stdout=out)
    path = tmp_path / "directory.json"
    path.write_text(out.getvalue())
    assert len(json.loads(out.getvalue())["providers"]) == 2
    result = StringIO()
    call_command("import_directory", str(path), stdout=result, stderr=StringIO())
    assert "Imported 2 providers (0 created, 2 updated)" in result.getvalue()
