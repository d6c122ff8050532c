"""A referral's patient details, reason and notes are encrypted at rest, in its change
history too, and its number is found by keyed hash (issue 12, part 5)."""

from __future__ import annotations

import io

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection

from common.phones import phone_hash
from referrals.models import Referral

pytestmark = pytest.mark.django_db

COLUMNS = "patient_name, patient_phone, patient_email, reason, notes"
WORDS = ("Alex", "Rivera", "2125550142", "alex@example", "buprenorphine", "overdose")


def raw_rows(table: str) -> list[tuple[str, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {COLUMNS} FROM {table}")
        return cursor.fetchall()


def test_the_referral_and_its_history_hold_tokens_and_no_details(create_referral):
    referral = create_referral(service="")
    assert (
        referral.reason.startswith("Opioid withdrawal") and referral.patient_name == "Alex Rivera"
    )
    rows = raw_rows("referrals_referral") + raw_rows("referrals_historicalreferral")
    assert len(rows) >= 2
    for row in rows:
        assert all(value.startswith("gAAAAA") for value in row)
        assert not any(word in " ".join(row) for word in WORDS)


def test_a_referral_is_found_by_its_number_through_the_hash(create_referral):
    referral = create_referral(service="")
    assert list(Referral.objects.filter(patient_phone_hash=phone_hash("+12125550142"))) == [
        referral
    ]


def test_rotation_rewrites_the_history_tables_too(create_referral, settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [old]
    referral = create_referral(service="")
    settings.FIELD_ENCRYPTION_KEYS = [new, old]
    call_command("rotate_encryption_keys", stdout=io.StringIO())
    settings.FIELD_ENCRYPTION_KEYS = [new]
    assert Referral.objects.get(pk=referral.pk).notes.startswith("History of overdose")
    assert [h.reason for h in referral.history.all()][0].startswith("Opioid withdrawal")
