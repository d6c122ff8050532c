"""Erasing a patient: nothing left that names them, appointment skeletons and the timeline
kept (issue 12, data lifecycle)."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
import time_machine
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import connection
from rest_framework.test import APIClient

from common.phones import phone_hash
from notifications.inbound import handle_inbound
from notifications.models import Notification
from notifications.optouts import opt_out
from scheduling.booking.erasure import erase_patient
from scheduling.models import Appointment, AppointmentStatus, Patient, PatientEvent
from tests.factories import SpecialtyFactory, StaffFactory
from tests.scheduling.booking_helpers import BOOK_URL, NOW, WED_10, WED_11, make_service, payload

pytestmark = pytest.mark.django_db

NAME, PHONE, EMAIL = "Zebulon Quartermaine", "+12125550199", "zeb@private.example"
SECRETS = ("Zebulon", "Quartermaine", "2125550199", "zeb@private")


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def everything_stored() -> str:
    """Every value of every row of every table, as text (base64 fields decoded)."""
    chunks = []
    for model in apps.get_models():
        for row in model.objects.all().values_list():
            for value in row:
                text = str(value)
                chunks.append(text)
                try:
                    chunks.append(base64.b64decode(text + "==", validate=False).decode("latin-1"))
                except ValueError:
                    pass
    return "\n".join(chunks)


def every_raw_row() -> str:
    """Every column of every row of every table, read with SQL as a dump would read it."""
    chunks = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            chunks.extend(str(value) for row in cursor.fetchall() for value in row)
    return "\n".join(chunks)


def a_full_history():
    """Bookings, a cancellation with a reason, a referral, a reply and a STOP by text."""
    service = make_service()
    patient = {"name": NAME, "phone": PHONE, "email": EMAIL}
    first = APIClient().post(
        BOOK_URL,
        payload(service, WED_10, patient=patient),
        format="json",
        HTTP_IDEMPOTENCY_KEY="erasure-test-1",  # its stored answer echoes the details
    )
    assert first.status_code == 201, first.content
    APIClient().post(BOOK_URL, payload(service, WED_11, patient=patient), format="json")
    token = first.json()["manage_url"].rsplit("/", 1)[-1]
    APIClient().post(
        f"/api/appointments/{first.json()['id']}/cancel/?token={token}",
        {"reason": "Zebulon has a court date"},
        format="json",
    )
    staff = APIClient()
    staff.force_authenticate(StaffFactory(is_superuser=True))
    referral = staff.post(
        "/api/referrals/",
        {
            "patient": {
                "name": NAME,
                "phone": PHONE,
                "email": EMAIL,
                "timezone": "America/New_York",
                "state": "NY",
                "sms_consent": True,
            },
            "referrer": {"name": "Dr. Ortiz", "email": "ortiz@clinic.example"},
            "specialty": SpecialtyFactory(slug="opioid-use-disorder").slug,
            "reason": "Quartermaine asked for help",
            "urgency": "routine",
        },
        format="json",
    )
    assert referral.status_code == 201, referral.content
    handle_inbound(message_sid="SM1", from_number=PHONE, body="C")
    opt_out(phone=PHONE, source="keyword")
    return Patient.objects.get(phone_hash=phone_hash(PHONE))


def test_the_history_names_the_patient_before_erasure():
    a_full_history()
    stored = everything_stored()
    assert all(secret in stored for secret in ("Zebulon", "2125550199", "zeb@private"))


def test_erasing_leaves_no_name_phone_or_email_anywhere_in_the_database():
    patient = a_full_history()
    erase_patient(patient=patient)
    stored = everything_stored()
    for secret in SECRETS:
        assert secret not in stored, secret


def test_before_erasure_no_raw_column_holds_the_name_phone_or_email_in_clear():
    a_full_history()
    assert "Zebulon" in everything_stored()  # the application reads them back
    raw = every_raw_row()
    for secret in SECRETS:
        assert secret not in raw, secret


def test_erasing_leaves_no_name_phone_or_email_in_any_raw_column():
    patient = a_full_history()
    erase_patient(patient=patient)
    raw = every_raw_row()
    assert len(raw) > 10_000  # the whole database was read, not an empty string
    for secret in SECRETS:
        assert secret not in raw, secret


def test_erasing_keeps_the_appointment_skeletons_and_cancels_future_visits():
    patient = a_full_history()
    before = Appointment.objects.filter(patient=patient).count()
    erase_patient(patient=patient)
    appointments = Appointment.objects.filter(patient=patient)
    assert appointments.count() == before == 2
    assert set(appointments.values_list("status", flat=True)) == {AppointmentStatus.CANCELLED}
    assert all(a.events.exists() for a in appointments)


def test_erasing_sends_nothing_more(clock):
    patient = a_full_history()
    erase_patient(patient=patient)
    assert not Notification.objects.filter(status="pending").exists()


def test_erasing_is_recorded_as_an_event_and_can_run_twice():
    patient = a_full_history()
    erase_patient(patient=patient)
    erase_patient(patient=patient)
    assert PatientEvent.objects.filter(patient=patient, kind="erased").count() == 2


def test_the_command_needs_confirmation_and_a_known_number():
    a_full_history()
    with pytest.raises(CommandError, match="--yes"):
        call_command("erase_patient", "--phone", PHONE)
    with pytest.raises(CommandError, match="No patient"):
        call_command("erase_patient", "--phone", "+12125550100", "--yes")
    call_command("erase_patient", "--phone", "212-555-0199", "--yes")
    assert NAME not in [p.name for p in Patient.objects.all()]


def test_retention_purges_old_message_words_and_inbound_texts(clock, settings):
    from notifications.models import InboundMessage
    from notifications.retention import PURGED, purge_expired

    a_full_history()
    Notification.objects.update(status="delivered")
    clock.shift(timedelta(days=settings.MESSAGE_RETENTION_DAYS + 1))
    purged = purge_expired()
    assert purged.message_bodies > 0 and purged.inbound_texts == 1
    assert set(Notification.objects.values_list("body", flat=True)) == {PURGED}
    assert not InboundMessage.objects.exists()


def test_erasing_a_patient_with_a_series_leaves_nothing_of_them_in_its_messages_or_answers():
    service = make_service(series_max_weeks=8, horizon_days=90)
    patient = {"name": NAME, "phone": PHONE, "email": EMAIL}
    body = payload(service, WED_10, patient=patient, repeat={"every_weeks": 1, "count": 3})
    response = APIClient().post(BOOK_URL, body, format="json", HTTP_IDEMPOTENCY_KEY="zeb-series")
    assert response.status_code == 201, response.content
    assert "Zebulon" in everything_stored()
    erase_patient(patient=Patient.objects.get(phone_hash=phone_hash(PHONE)))
    stored = everything_stored()
    for secret in SECRETS:
        assert secret not in stored, secret
