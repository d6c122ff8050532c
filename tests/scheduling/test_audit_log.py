"""The access log's rows: what they hold, what they never hold, and what they cost."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from django.db import connection
from django.db.models import ProtectedError
from django.test.utils import CaptureQueriesContext

from scheduling.audit.models import AuditEvent
from scheduling.audit.services import Accessor, Subject, loggable_changes, record_access
from scheduling.calendar import feeds
from tests.factories import PatientFactory, StaffFactory, UserFactory
from tests.scheduling.pages_helpers import (
    NOW,
    NY,
    TUE_9,
    WED_10,
    WED_11,
    make_appointment,
    make_service,
    manage_path,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def service():
    service = make_service()
    service.provider.user = UserFactory(username="dana")
    service.provider.save()
    return service


def test_the_logged_path_never_holds_the_manage_token(client, service):
    appointment = make_appointment(service, WED_10)
    client.get(manage_path(appointment) + "?tz=America/Chicago")
    row = AuditEvent.objects.get()
    assert row.path == "/m/<token>"
    assert (row.action, row.channel, row.role, row.actor_user) == ("view", "link", "patient", None)


def test_a_row_names_the_patient_by_key_and_holds_no_name_phone_or_email(client, service):
    patient = PatientFactory(name="Alex Rivera", phone="+12125550142", email="alex@example.net")
    appointment = make_appointment(service, WED_10, patient=patient)
    client.get(manage_path(appointment))
    row = AuditEvent.objects.values().get()
    assert row["patient_id"] == patient.pk
    text = str(row)
    for secret in ("Alex", "Rivera", "0142", "alex@", manage_path(appointment)[3:]):
        assert secret not in text


def test_a_row_keeps_the_address_and_a_shortened_user_agent(client, service):
    appointment = make_appointment(service, WED_10)
    client.get(manage_path(appointment), REMOTE_ADDR="203.0.113.9", HTTP_USER_AGENT="x" * 500)
    row = AuditEvent.objects.get()
    assert row.ip_address == "203.0.113.9"
    assert row.user_agent == "x" * 200


def test_a_signed_in_view_records_the_login_and_the_role_it_acts_in(client, service):
    appointment = make_appointment(service, WED_10)
    client.force_login(service.provider.user)
    client.get(f"/portal/appointments/{appointment.pk}/")
    row = AuditEvent.objects.get()
    assert (row.actor_user, row.actor_label, row.role) == (
        service.provider.user,
        "dana",
        "provider",
    )
    assert (row.object_type, row.object_id) == ("appointment", str(appointment.pk))


def test_a_list_writes_one_row_per_patient_in_one_statement(client, service):
    alex, sam = PatientFactory(), PatientFactory()
    make_appointment(service, TUE_9, patient=alex)
    make_appointment(service, WED_10, patient=alex)
    make_appointment(service, WED_11, patient=sam)
    client.force_login(service.provider.user)
    with CaptureQueriesContext(connection) as captured:
        assert client.get("/portal/").status_code == 200
    inserts = [q for q in captured.captured_queries if "scheduling_auditevent" in q["sql"]]
    assert len(inserts) == 1
    assert sorted(AuditEvent.objects.values_list("patient_id", flat=True)) == sorted(
        [alex.pk, sam.pk]
    )
    assert set(AuditEvent.objects.values_list("action", flat=True)) == {"list"}


def test_a_page_that_shows_no_patient_writes_nothing(client, service):
    client.force_login(service.provider.user)
    assert client.get("/portal/").status_code == 200
    assert not AuditEvent.objects.exists()


def test_a_feed_served_from_the_cache_still_logs_the_patients_it_names(client, service):
    make_appointment(service, WED_10)
    path = f"/calendar/{feeds.feed_token(provider=service.provider)}.ics"
    client.get(path)
    client.get(path)  # the rendering comes from the cache this time
    assert AuditEvent.objects.filter(action="export", channel="calendar").count() == 2
    assert set(AuditEvent.objects.values_list("path", flat=True)) == {"/calendar/<token>"}


def test_a_304_for_an_unchanged_feed_logs_nothing(client, service):
    make_appointment(service, WED_10)
    path = f"/calendar/{feeds.feed_token(provider=service.provider)}.ics"
    etag = client.get(path)["ETag"]
    assert client.get(path, HTTP_IF_NONE_MATCH=etag).status_code == 304
    assert AuditEvent.objects.count() == 1


def test_identifying_fields_are_logged_by_name_and_others_with_their_values():
    changes = loggable_changes(
        {
            "phone": ("+12125550142", "+12125550143"),
            "state": ("NY", "NJ"),
            "start": (datetime(2026, 3, 4, 15, tzinfo=UTC), datetime(2026, 3, 4, 16, tzinfo=UTC)),
            "status": ("confirmed", "confirmed"),
        }
    )
    assert changes == {
        "phone": "changed",
        "state": ["NY", "NJ"],
        "start": ["2026-03-04 15:00:00+00:00", "2026-03-04 16:00:00+00:00"],
    }


def test_rows_are_append_only(service):
    record_access(
        accessor=Accessor(channel="command", role="system"),
        action="view",
        subjects=[Subject("patient", "1", PatientFactory().pk)],
    )
    row = AuditEvent.objects.get()
    row.action = "change"
    with pytest.raises(ValueError, match="append-only"):
        row.save()


def test_a_patient_with_an_accounting_cannot_be_deleted(client, service):
    appointment = make_appointment(service, WED_10)
    client.get(manage_path(appointment))
    appointment.delete()
    with pytest.raises(ProtectedError):
        appointment.patient.delete()


def test_staff_read_the_log_in_the_admin_but_cannot_change_it(client, service):
    appointment = make_appointment(service, WED_10)
    client.get(manage_path(appointment))
    row = AuditEvent.objects.get()
    client.force_login(StaffFactory(username="root", is_superuser=True))
    listing = client.get("/admin/scheduling/auditevent/", {"q": appointment.patient.phone})
    assert listing.status_code == 200
    assert str(appointment.pk) in listing.text
    assert client.get("/admin/scheduling/auditevent/add/").status_code == 403
    page = client.get(f"/admin/scheduling/auditevent/{row.pk}/change/")
    assert page.status_code == 200
    assert 'name="_save"' not in page.text
    assert client.post(f"/admin/scheduling/auditevent/{row.pk}/delete/").status_code == 403
    assert AuditEvent.objects.filter(pk=row.pk).exists()


def test_an_appointment_change_by_the_api_logs_the_status_before_and_after(service):
    from rest_framework.test import APIClient

    from scheduling.booking import links

    appointment = make_appointment(service, datetime(2026, 3, 4, 10, tzinfo=NY))
    response = APIClient().post(
        f"/api/appointments/{appointment.pk}/cancel/",
        {"token": links.manage_token(appointment)},
        format="json",
    )
    assert response.status_code == 200
    row = AuditEvent.objects.get()
    assert row.changes == {"status": ["confirmed", "cancelled"]}


def _synchronous_commit() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        return cursor.fetchone()[0]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_reads_row_skips_the_disk_flush_for_its_own_statement_only(client, service):
    appointment = make_appointment(service, WED_10)
    with CaptureQueriesContext(connection) as captured:
        client.get(manage_path(appointment))
    assert AuditEvent.objects.count() == 1
    assert "set_config('synchronous_commit', 'off', true)" in captured.captured_queries[-1]["sql"]
    # set_config(..., true) lasted for the INSERT's own transaction: bookings stay durable.
    assert _synchronous_commit() == "on"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_row_written_inside_a_change_commits_with_it_as_durably(service):
    from django.db import transaction

    with transaction.atomic(), CaptureQueriesContext(connection) as captured:
        record_access(
            accessor=Accessor(channel="admin", role="staff"),
            action="change",
            subjects=[Subject("patient", "1", PatientFactory().pk)],
        )
        assert _synchronous_commit() == "on"
    assert "set_config" not in captured.captured_queries[0]["sql"]
    assert AuditEvent.objects.count() == 1
