"""Encryption at rest (issue 12, part 5): what the columns hold, lookups by keyed hash, and
rotating FIELD_ENCRYPTION_KEYS."""

from __future__ import annotations

import hashlib
import io

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import FieldError
from django.core.management import call_command
from django.db import connection

from common.crypto import UndecryptableValue, blind_index
from common.phones import phone_hash
from scheduling.booking.patients import PatientDetails, find_or_create_patient
from scheduling.models import Patient
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

KEY_A, KEY_B = Fernet.generate_key().decode(), Fernet.generate_key().decode()
NAME, PHONE, EMAIL = "Marisol Okonkwo-Berg", "+12125550171", "marisol@private.example"


def stored(patient: Patient) -> tuple[str, str, str]:
    """The raw name, phone and email columns, as a database dump would show them."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name, phone, email FROM scheduling_patient WHERE id = %s", [patient.pk]
        )
        return cursor.fetchone()


def test_a_patient_reads_back_what_was_written():
    patient = PatientFactory(name=NAME, phone=PHONE, email=EMAIL)
    again = Patient.objects.get(pk=patient.pk)
    assert (again.name, again.phone, again.email) == (NAME, PHONE, EMAIL)


def test_the_stored_columns_hold_fernet_tokens_and_no_details():
    patient = PatientFactory(name=NAME, phone=PHONE, email=EMAIL)
    raw = stored(patient)
    assert all(value.startswith("gAAAAA") for value in raw)
    dump = " ".join(raw)
    assert "Marisol" not in dump and "2125550171" not in dump and "private.example" not in dump


def test_one_name_stored_twice_gives_two_different_tokens():
    first = PatientFactory(name=NAME)
    second = PatientFactory(name=NAME)
    assert stored(first)[0] != stored(second)[0]


def test_an_empty_email_stays_empty():
    patient = PatientFactory(email="")
    assert stored(patient)[2] == ""
    assert Patient.objects.get(pk=patient.pk).email == ""


def test_a_filter_on_an_encrypted_column_is_refused_rather_than_matching_nothing():
    with pytest.raises(FieldError, match="encrypted"):
        Patient.objects.filter(phone=PHONE).exists()


def test_a_patient_is_found_by_phone_through_its_keyed_hash():
    patient = PatientFactory(phone=PHONE)
    assert Patient.objects.get(phone_hash=phone_hash(PHONE)) == patient


def test_an_email_hash_is_the_same_for_any_letter_case_or_surrounding_spaces():
    assert blind_index(" Riley@Example.org") == blind_index("riley@example.org") != ""


def test_the_phone_hash_depends_on_the_hash_key(settings):
    plain = hashlib.sha256(PHONE.encode()).hexdigest()
    first = phone_hash(PHONE)
    settings.FIELD_HASH_KEY = "another-hash-key"
    assert phone_hash(PHONE) != first
    assert plain not in (first, phone_hash(PHONE))


def test_one_phone_booked_twice_is_one_patient():
    details = PatientDetails(
        name=NAME, phone="(212) 555-0171", timezone="America/New_York", state="NY", email=""
    )
    first = find_or_create_patient(
        details=details, sms_consent=True, consent_source="test", actor="patient"
    )
    again = find_or_create_patient(
        details=details, sms_consent=True, consent_source="test", actor="patient"
    )
    assert first.pk == again.pk and Patient.objects.count() == 1


def test_values_written_under_an_old_key_read_while_it_follows_the_new_one(settings):
    settings.FIELD_ENCRYPTION_KEYS = [KEY_A]
    patient = PatientFactory(name=NAME)
    settings.FIELD_ENCRYPTION_KEYS = [KEY_B, KEY_A]
    assert Patient.objects.get(pk=patient.pk).name == NAME


def test_rotation_rewrites_every_column_under_the_newest_key(settings):
    settings.FIELD_ENCRYPTION_KEYS = [KEY_A]
    patients = [PatientFactory(name=f"{NAME} {n}", email=f"m{n}@private.example") for n in range(5)]
    settings.FIELD_ENCRYPTION_KEYS = [KEY_B, KEY_A]
    call_command("rotate_encryption_keys", "--batch-size", "2", stdout=io.StringIO())
    settings.FIELD_ENCRYPTION_KEYS = [KEY_B]
    for n, patient in enumerate(patients):
        again = Patient.objects.get(pk=patient.pk)
        assert (again.name, again.email, again.phone) == (
            f"{NAME} {n}",
            f"m{n}@private.example",
            patient.phone,
        )


def test_a_second_rotation_rewrites_nothing(settings, capsys):
    settings.FIELD_ENCRYPTION_KEYS = [KEY_A]
    patient = PatientFactory()
    settings.FIELD_ENCRYPTION_KEYS = [KEY_B, KEY_A]
    call_command("rotate_encryption_keys")
    assert "scheduling.Patient: 1 rows re-encrypted" in capsys.readouterr().out
    before = stored(patient)
    call_command("rotate_encryption_keys")
    assert "scheduling.Patient: 0 rows re-encrypted" in capsys.readouterr().out
    assert stored(patient) == before


def test_a_value_no_listed_key_opens_fails_loudly(settings):
    settings.FIELD_ENCRYPTION_KEYS = [KEY_A]
    patient = PatientFactory()
    settings.FIELD_ENCRYPTION_KEYS = [KEY_B]
    with pytest.raises(UndecryptableValue):
        Patient.objects.get(pk=patient.pk)


def test_json_columns_read_back_as_json_and_store_one_token():
    from notifications.models import Notification

    note = Notification.objects.create(
        channel="email",
        recipient=EMAIL,
        template="t",
        body="Hello Marisol",
        dedupe_key="json-1",
        attachments=[{"filename": "visit.ics", "content": "SUMMARY:Marisol"}],
    )
    assert Notification.objects.get(pk=note.pk).attachments[0]["filename"] == "visit.ics"
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT attachments, body, recipient FROM notifications_notification WHERE id = %s",
            [note.pk],
        )
        raw = cursor.fetchone()
    assert all(value.startswith("gAAAAA") for value in raw)
    assert "Marisol" not in " ".join(raw)


def test_an_encrypted_column_compares_in_sql_with_the_empty_string_only():
    PatientFactory(email="")
    PatientFactory(email=EMAIL)
    assert Patient.objects.filter(email="").count() == 1
    with pytest.raises(FieldError, match="encrypted"):
        Patient.objects.filter(email=EMAIL).count()


def test_the_migration_rehashes_emails_that_were_hashed_as_written(settings):
    import hmac
    from importlib import import_module

    from django.apps import apps

    patient = PatientFactory(email="Riley@Example.org")
    as_written = hmac.new(
        settings.FIELD_HASH_KEY.encode(), b"Riley@Example.org", hashlib.sha256
    ).hexdigest()
    Patient.objects.filter(pk=patient.pk).update(email_hash=as_written)

    migration = import_module("scheduling.migrations.0016_email_hashes_ignore_case")
    migration.rehash_emails(apps, None)

    assert Patient.objects.get(email_hash=blind_index("riley@example.org")) == patient
