"""`manage.py import_directory FILE.json`: every error on its own line, or a summary."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from scheduling.models import Provider
from tests.scheduling.directory_documents import MARCUS, document, provider

pytestmark = pytest.mark.django_db


def write(tmp_path: Path, doc: Any) -> str:
    path = tmp_path / "directory.json"
    path.write_text(json.dumps(doc))
    return str(path)


def run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("import_directory", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_an_invalid_file_prints_every_error_one_per_line_and_writes_nothing(tmp_path: Path):
    bad = provider(
        weekly_hours=[
            {"weekday": "mon", "start": "09:00", "end": "12:00"},
            {"weekday": "tue", "start": "09:00", "end": "12:00"},
            {"weekday": "wed", "start": "17:00", "end": "09:00"},
        ]
    )
    path = write(tmp_path, document(bad, provider(MARCUS, licensed_states=["XX"])))
    err = StringIO()
    with pytest.raises(CommandError, match="2 errors; nothing was imported") as info:
        call_command("import_directory", path, stdout=StringIO(), stderr=err)
    assert info.value.returncode == 1
    assert err.getvalue().splitlines() == [
        "dana-whitfield.weekly_hours[2].end: must be after start",
        "marcus-lee.licensed_states[0]: 'XX' is not a USPS state code such as NY",
    ]
    assert Provider.objects.count() == 0


def test_a_file_that_is_not_json_is_refused(tmp_path: Path):
    path = tmp_path / "directory.json"
    path.write_text('{"providers": [')
    with pytest.raises(CommandError, match="is not valid JSON"):
        run(str(path))


def test_a_missing_file_is_refused(tmp_path: Path):
    with pytest.raises(CommandError, match="Cannot read"):
        run(str(tmp_path / "nope.json"))


def test_a_valid_file_is_imported_and_summarised(tmp_path: Path):
    out, err = run(write(tmp_path, document(provider(), provider(MARCUS))))
    assert "Imported 2 providers (2 created, 0 updated)" in out
    assert err == ""
    assert Provider.objects.count() == 2


def test_the_shipped_example_file_imports_cleanly():
    from django.conf import settings

    out, _ = run(str(settings.BASE_DIR / "scheduling" / "demo" / "example_directory.json"))
    assert "Imported 3 providers (3 created, 0 updated)" in out
    assert Provider.objects.get(slug="rosa-delgado").services.get().capacity == 12
