"""Patients' name, phone and email encrypted at rest, found by their keyed hashes.

Three steps: the columns become plain text and a hash column appears; every row is encrypted
and hashed with the current FIELD_ENCRYPTION_KEYS / FIELD_HASH_KEY (reversible: unapplying
decrypts); then the columns take their encrypted types and the hash becomes the unique key.
"""

from django.db import migrations, models

import common.crypto

FIELDS = ("name", "phone", "email")


def encrypt_rows(apps, schema_editor):
    Patient = apps.get_model("scheduling", "Patient")
    rows = list(Patient.objects.all().only("pk", *FIELDS))
    for row in rows:
        row.phone_hash = common.crypto.blind_index(row.phone)
        row.email_hash = common.crypto.blind_index(row.email)
        for field in FIELDS:
            value = getattr(row, field)
            if value:
                setattr(row, field, common.crypto.encrypt(value))
    Patient.objects.bulk_update(rows, [*FIELDS, "phone_hash", "email_hash"], batch_size=500)


def decrypt_rows(apps, schema_editor):
    Patient = apps.get_model("scheduling", "Patient")
    rows = list(Patient.objects.all().only("pk", *FIELDS))
    for row in rows:
        for field in FIELDS:
            value = getattr(row, field)
            if value:
                setattr(row, field, common.crypto.decrypt(value))
    Patient.objects.bulk_update(rows, FIELDS, batch_size=500)


class Migration(migrations.Migration):
    dependencies = [
        ("scheduling", "0007_change_history"),
    ]

    operations = [
        migrations.AlterField(model_name="patient", name="name", field=models.TextField()),
        migrations.AlterField(model_name="patient", name="phone", field=models.TextField()),
        migrations.AlterField(
            model_name="patient", name="email", field=models.TextField(blank=True)
        ),
        migrations.AddField(
            model_name="patient",
            name="phone_hash",
            field=models.CharField(max_length=64, blank=True, default=""),
        ),
        migrations.AddField(
            model_name="patient",
            name="email_hash",
            field=models.CharField(max_length=64, blank=True, default=""),
        ),
        migrations.RunPython(encrypt_rows, decrypt_rows, elidable=False),
        migrations.AlterModelOptions(name="patient", options={}),
        migrations.AlterField(
            model_name="patient",
            name="phone_hash",
            field=common.crypto.BlindIndexField(source="phone", unique=True),
        ),
        migrations.AlterField(
            model_name="patient",
            name="email_hash",
            field=common.crypto.BlindIndexField(db_index=True, source="email"),
        ),
        migrations.AlterField(
            model_name="patient",
            name="email",
            field=common.crypto.EncryptedEmailField(blank=True, max_length=254),
        ),
        migrations.AlterField(
            model_name="patient",
            name="name",
            field=common.crypto.EncryptedTextField(max_length=160),
        ),
        migrations.AlterField(
            model_name="patient",
            name="phone",
            field=common.crypto.EncryptedTextField(help_text="E.164", max_length=20),
        ),
    ]
