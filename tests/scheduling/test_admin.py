"""The operator's admin renders every list, search and change page."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.test import Client

from scheduling.models import AppointmentEvent, IdempotencyKey, Insurance, Language, Specialty
from tests.factories import (
    AppointmentFactory,
    PatientFactory,
    ProviderFactory,
    ServiceFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator() -> Client:
    client = Client()
    client.force_login(UserFactory(username="operator", is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def directory() -> dict:
    dana = ProviderFactory(
        slug="dana-whitfield", name="Dana Whitfield", credentials="LCSW", states=["NY", "NJ"]
    )
    marcus = ProviderFactory(
        slug="marcus-lee",
        name="Marcus Lee",
        credentials="MD",
        kind="addiction_medicine",
        timezone="America/Phoenix",
        states=["AZ"],
    )
    dana.specialties.add(Specialty.objects.create(slug="trauma", name="Trauma"))
    dana.insurance.add(Insurance.objects.create(slug="medicaid", name="Medicaid"))
    dana.languages.add(Language.objects.create(code="es", name="Spanish"))
    service = ServiceFactory(provider=dana, slug="intake", name="Intake assessment")
    patient = PatientFactory(name="Alex Rivera", phone="+12125550142")
    appointment = AppointmentFactory(
        service=service, patient=patient, start=datetime(2026, 12, 7, 15, tzinfo=UTC)
    )
    AppointmentEvent.objects.create(appointment=appointment, actor="patient", kind="booked")
    key = IdempotencyKey.objects.create(key="abc", scope="book", request_hash="0" * 64)
    return {
        "provider": dana,
        "other": marcus,
        "service": service,
        "patient": patient,
        "appointment": appointment,
        "key": key,
    }


@pytest.mark.parametrize(
    "model",
    [
        "provider",
        "service",
        "specialty",
        "insurance",
        "language",
        "patient",
        "appointment",
        "idempotencykey",
    ],
)
def test_each_changelist_renders_and_searches(operator: Client, directory: dict, model: str):
    url = f"/admin/scheduling/{model}/"
    assert operator.get(url).status_code == 200
    assert operator.get(url, {"q": "dana"}).status_code == 200


@pytest.mark.parametrize("name", ["provider", "service", "patient", "appointment", "key"])
def test_each_change_page_renders(operator: Client, directory: dict, name: str):
    obj = directory[name]
    url = f"/admin/scheduling/{obj._meta.model_name}/{obj.pk}/change/"
    assert operator.get(url).status_code == 200


@pytest.mark.parametrize("model", ["specialty", "insurance", "language"])
def test_each_vocabulary_change_page_renders(operator: Client, directory: dict, model: str):
    changelist = operator.get(f"/admin/scheduling/{model}/")
    obj = changelist.context["cl"].result_list[0]
    assert operator.get(f"/admin/scheduling/{model}/{obj.pk}/change/").status_code == 200


@pytest.mark.parametrize("model", ["provider", "service", "specialty", "patient"])
def test_add_pages_render_where_adding_is_allowed(operator: Client, model: str):
    assert operator.get(f"/admin/scheduling/{model}/add/").status_code == 200


def test_appointments_and_idempotency_keys_cannot_be_added_or_deleted(
    operator: Client, directory: dict
):
    appointment = directory["appointment"]
    assert operator.get("/admin/scheduling/appointment/add/").status_code == 403
    url = f"/admin/scheduling/appointment/{appointment.pk}/delete/"
    assert operator.get(url).status_code == 403
    assert operator.post(url, {"post": "yes"}).status_code == 403
    assert operator.get("/admin/scheduling/idempotencykey/add/").status_code == 403


def test_the_appointment_page_shows_its_event_log(operator: Client, directory: dict):
    appointment = directory["appointment"]
    page = operator.get(f"/admin/scheduling/appointment/{appointment.pk}/change/")
    assert b"booked" in page.content
    assert appointment.manage_token_hash.encode() not in page.content


def test_providers_filter_by_licensed_state(operator: Client, directory: dict):
    page = operator.get("/admin/scheduling/provider/", {"licensed_state": "AZ"})
    assert [p.slug for p in page.context["cl"].result_list] == ["marcus-lee"]


@pytest.mark.parametrize(
    "params",
    [
        {"kind__exact": "therapist"},
        {"accepting_new_patients__exact": "1"},
        {"specialties__id__exact": "1"},
        {"q": "LCSW"},
    ],
)
def test_provider_filters_and_credential_search_render(operator: Client, directory: dict, params):
    assert operator.get("/admin/scheduling/provider/", params).status_code == 200


def test_provider_search_finds_by_credentials(operator: Client, directory: dict):
    page = operator.get("/admin/scheduling/provider/", {"q": "MD"})
    assert [p.slug for p in page.context["cl"].result_list] == ["marcus-lee"]


def test_patient_phones_are_masked_in_the_list_but_searchable(operator: Client, directory: dict):
    # Phones are encrypted: a whole number (in any usual spelling) is found, not a fragment.
    assert (
        operator.get("/admin/scheduling/patient/", {"q": "5550142"})
        .context["cl"]
        .result_list.count()
        == 0
    )
    page = operator.get("/admin/scheduling/patient/", {"q": "(212) 555-0142"})
    assert [p.name for p in page.context["cl"].result_list] == ["Alex Rivera"]
    assert b"+12125550142" not in page.content
    assert "+1••••••0142" in page.content.decode()


def test_overlapping_weekly_hours_are_refused_by_the_provider_form(
    operator: Client, directory: dict
):
    from scheduling.models import WeeklyHours

    dana = directory["provider"]
    WeeklyHours.objects.filter(provider=dana).delete()
    data = {
        "name": dana.name,
        "slug": dana.slug,
        "kind": dana.kind,
        "timezone": dana.timezone,
        "accepting_new_patients": "on",
        "offers_video": "on",
        "licenses-TOTAL_FORMS": "0",
        "licenses-INITIAL_FORMS": "0",
        "services-TOTAL_FORMS": "0",
        "services-INITIAL_FORMS": "0",
        "overrides-TOTAL_FORMS": "0",
        "overrides-INITIAL_FORMS": "0",
        "time_off-TOTAL_FORMS": "0",
        "time_off-INITIAL_FORMS": "0",
        "weekly_hours-TOTAL_FORMS": "2",
        "weekly_hours-INITIAL_FORMS": "0",
        "weekly_hours-0-weekday": "0",
        "weekly_hours-0-start": "09:00",
        "weekly_hours-0-end": "12:00",
        "weekly_hours-1-weekday": "0",
        "weekly_hours-1-start": "11:00",
        "weekly_hours-1-end": "13:00",
    }
    page = operator.post(f"/admin/scheduling/provider/{dana.pk}/change/", data)
    assert page.status_code == 200  # the form again, with the error
    assert b"Windows overlap on mon." in page.content
    assert WeeklyHours.objects.filter(provider=dana).count() == 0


def _changelist_queries(client: Client, url: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_appointment_list_takes_the_same_queries_for_more_rows(
    operator: Client, directory: dict
):
    from datetime import timedelta

    url = "/admin/scheduling/appointment/"
    few = _changelist_queries(operator, url)
    for day in range(1, 8):
        AppointmentFactory(
            service=ServiceFactory(provider=directory["other"]),
            start=datetime(2026, 12, 7, 15, tzinfo=UTC) + timedelta(days=day),
        )
    assert _changelist_queries(operator, url) == few


def test_the_provider_list_takes_the_same_queries_for_more_rows(operator: Client, directory: dict):
    url = "/admin/scheduling/provider/"
    few = _changelist_queries(operator, url)
    for n in range(5):
        ProviderFactory(slug=f"extra-{n}", states=["CA", "OR"])
    assert _changelist_queries(operator, url) == few


IMPORT_URL = "/admin/scheduling/provider/import/"


def _upload(client: Client, content: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(
        IMPORT_URL, {"file": SimpleUploadedFile("directory.json", content, "application/json")}
    )


def test_the_provider_list_links_to_the_import_page(operator: Client):
    assert IMPORT_URL.encode() in operator.get("/admin/scheduling/provider/").content
    assert operator.get(IMPORT_URL).status_code == 200


def test_an_uploaded_directory_with_errors_lists_them_all_and_writes_nothing(operator: Client):
    import json

    from scheduling.models import Provider
    from tests.scheduling.directory_documents import MARCUS, document, provider

    bad = document(provider(), provider(MARCUS, timezone="Mars/Olympus_Mons", kind="psychic"))
    page = _upload(operator, json.dumps(bad).encode())
    assert page.status_code == 200
    html = page.content.decode()
    assert "marcus-lee.timezone" in html and "marcus-lee.kind" in html
    assert "The directory has 2 errors; nothing was imported." in html
    assert not Provider.objects.exists()


def test_an_upload_that_is_not_json_is_refused_by_the_form(operator: Client):
    page = _upload(operator, b"name,slug\nDana,dana")
    assert page.status_code == 200
    assert b"This is not a JSON file" in page.content


def test_a_deeply_nested_upload_is_refused_by_the_form(operator: Client):
    page = _upload(operator, b"[" * 100_000 + b"]" * 100_000)
    assert page.status_code == 200
    assert b"This is not a JSON file" in page.content


def test_a_valid_upload_imports_and_returns_to_the_list_with_the_summary(operator: Client):
    import json

    from scheduling.models import Provider
    from tests.scheduling.directory_documents import MARCUS, document, provider

    page = _upload(operator, json.dumps(document(provider(), provider(MARCUS))).encode())
    assert page.status_code == 302 and page["Location"] == "/admin/scheduling/provider/"
    assert Provider.objects.count() == 2
    listing = operator.get(page["Location"])
    assert b"Imported 2 providers (2 created, 0 updated)" in listing.content


def test_staff_without_provider_permissions_cannot_import():
    client = Client()
    client.force_login(UserFactory(username="viewer", is_staff=True))
    assert client.get(IMPORT_URL).status_code == 403


def test_anonymous_visitors_are_sent_to_the_admin_login():
    page = Client().get(IMPORT_URL)
    assert page.status_code == 302 and "/admin/login/" in page["Location"]


def test_patient_search_finds_a_whole_email_address(operator: Client, directory: dict):
    directory["patient"].email = "alex@example.org"
    directory["patient"].save()
    page = operator.get("/admin/scheduling/patient/", {"q": "alex@example.org"})
    assert [p.name for p in page.context["cl"].result_list] == ["Alex Rivera"]


def test_patient_search_by_email_ignores_letter_case(operator: Client, directory: dict):
    directory["patient"].email = "Alex.Rivera@Example.org"
    directory["patient"].save()
    page = operator.get("/admin/scheduling/patient/", {"q": " alex.rivera@example.ORG "})
    assert [p.name for p in page.context["cl"].result_list] == ["Alex Rivera"]


def test_the_patient_form_refuses_another_patients_phone(operator: Client, directory: dict):
    other = PatientFactory(phone="+12125550177")
    page = operator.get(f"/admin/scheduling/patient/{other.pk}/change/")
    form = page.context["adminform"].form
    data = {name: form.initial.get(name) or "" for name in form.fields}
    data.update(phone="(212) 555-0142", sms_consent="")
    answer = operator.post(f"/admin/scheduling/patient/{other.pk}/change/", data)
    assert answer.status_code == 200
    assert "Another patient has this phone number." in answer.content.decode()
