"""Referrals' patient details, reason and notes encrypted at rest (their history too), the
phone found by its keyed hash.

Three steps: the columns become plain text and a hash column appears; every row is encrypted
and hashed with the current FIELD_ENCRYPTION_KEYS / FIELD_HASH_KEY (reversible: unapplying
decrypts); then the columns take their encrypted types.
"""

from django.db import migrations, models

import common.crypto

FIELDS = ("patient_name", "patient_phone", "patient_email", "reason", "notes")
MODELS = ("Referral", "HistoricalReferral")


def _rewrite(apps, *, forward):
    for name in MODELS:
        model = apps.get_model("referrals", name)
        pk = model._meta.pk.name
        rows = list(model.objects.all().only(pk, *FIELDS))
        for row in rows:
            if forward:
                row.patient_phone_hash = common.crypto.blind_index(row.patient_phone)
            for field in FIELDS:
                value = getattr(row, field)
                if value:
                    change = common.crypto.encrypt if forward else common.crypto.decrypt
                    setattr(row, field, change(value))
        fields = [*FIELDS, "patient_phone_hash"] if forward else list(FIELDS)
        model.objects.bulk_update(rows, fields, batch_size=500)


def encrypt_rows(apps, schema_editor):
    _rewrite(apps, forward=True)


def decrypt_rows(apps, schema_editor):
    _rewrite(apps, forward=False)


def _typed(model_name):
    return [
        migrations.AlterField(
            model_name=model_name,
            name="patient_phone_hash",
            field=common.crypto.BlindIndexField(db_index=True, source="patient_phone"),
        ),
        migrations.AlterField(
            model_name=model_name, name="notes", field=common.crypto.EncryptedTextField(blank=True)
        ),
        migrations.AlterField(
            model_name=model_name,
            name="patient_email",
            field=common.crypto.EncryptedEmailField(blank=True, max_length=254),
        ),
        migrations.AlterField(
            model_name=model_name,
            name="patient_name",
            field=common.crypto.EncryptedTextField(max_length=160),
        ),
        migrations.AlterField(
            model_name=model_name,
            name="patient_phone",
            field=common.crypto.EncryptedTextField(
                help_text="E.164; the link is sent here", max_length=20
            ),
        ),
        migrations.AlterField(
            model_name=model_name, name="reason", field=common.crypto.EncryptedTextField()
        ),
    ]


def _plain(model_name):
    return [
        migrations.AlterField(
            model_name=model_name, name="patient_name", field=models.TextField()
        ),
        migrations.AlterField(
            model_name=model_name, name="patient_phone", field=models.TextField()
        ),
        migrations.AlterField(
            model_name=model_name, name="patient_email", field=models.TextField(blank=True)
        ),
        migrations.AddField(
            model_name=model_name,
            name="patient_phone_hash",
            field=models.CharField(max_length=64, blank=True, default=""),
        ),
    ]


class Migration(migrations.Migration):
    dependencies = [
        ("referrals", "0005_change_history"),
    ]

    operations = [
        *_plain("referral"),
        *_plain("historicalreferral"),
        migrations.RunPython(encrypt_rows, decrypt_rows, elidable=False),
        *_typed("referral"),
        *_typed("historicalreferral"),
    ]
