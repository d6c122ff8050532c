"""The directory document's optional photo, one-line intro and private-page credentials."""

from __future__ import annotations

from typing import Any

import pytest

from scheduling.directory import DirectoryInvalid, import_directory, validate_directory
from scheduling.directory.export import export_directory
from scheduling.models import Provider
from tests.scheduling.directory_documents import document, provider

pytestmark = pytest.mark.django_db

DANA = {
    "intro": "I help adults rebuild daily routines.",
    "photo_url": "https://photos.example.org/dana.jpg",
    "credentials_on_private_pages": True,
}


def errors_of(doc: Any) -> dict[str, str]:
    with pytest.raises(DirectoryInvalid) as info:
        validate_directory(doc)
    return info.value.fields


def test_the_photo_intro_and_credentials_choice_are_imported_and_exported_as_given():
    import_directory(document=document(provider(**DANA)))
    dana = Provider.objects.get(slug="dana-whitfield")
    assert (dana.intro, dana.photo_url, dana.credentials_on_private_pages) == tuple(DANA.values())
    exported = export_directory()["providers"][0]
    assert {key: exported[key] for key in DANA} == DANA


def test_without_them_the_intro_and_photo_are_empty_and_credentials_stay_off_private_pages():
    import_directory(document=document(provider()))
    dana = Provider.objects.get(slug="dana-whitfield")
    assert (dana.intro, dana.photo_url, dana.credentials_on_private_pages) == ("", "", False)


@pytest.mark.parametrize(
    "url",
    [
        "http://photos.example.org/dana.jpg",
        "javascript:alert(1)",
        "//photos.example.org/dana.jpg",
        "/media/../etc/passwd",
        'https://photos.example.org/a"onerror=1',
        "/static/../settings.py",
    ],
)
def test_a_photo_must_be_an_https_address_or_a_static_path(url):
    errors = errors_of(document(provider(photo_url=url)))
    assert "https://" in errors["dana-whitfield.photo_url"]


def test_a_static_photo_path_is_accepted():
    validate_directory(document(provider(photo_url="/static/scheduling/dana.jpg")))


def test_the_intro_is_one_short_line():
    assert "one line" in errors_of(document(provider(intro="one\ntwo")))["dana-whitfield.intro"]
    assert "140" in errors_of(document(provider(intro="x" * 141)))["dana-whitfield.intro"]


def test_the_credentials_choice_is_a_boolean():
    errors = errors_of(document(provider(credentials_on_private_pages="yes")))
    assert "dana-whitfield.credentials_on_private_pages" in errors
