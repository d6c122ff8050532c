"""A patient's change timeline (old and new emails) and the stored booking answers (which
echo name, phone and email) encrypted at rest, as JSON in one token each.

Three steps, like 0008: text columns (the JSON as text), every row encrypted, then the
encrypted type. Unapplying decrypts back to JSON.
"""

from django.db import migrations, models

import common.crypto

FIELDS = {"PatientEvent": "data", "IdempotencyKey": "response_body"}


def _rewrite(apps, change):
    for name, field in FIELDS.items():
        model = apps.get_model("scheduling", name)
        rows = list(model.objects.exclude(**{f"{field}__isnull": True}).only("pk", field))
        for row in rows:
            value = getattr(row, field)
            if value:
                setattr(row, field, change(value))
        model.objects.bulk_update(rows, [field], batch_size=500)


def encrypt_rows(apps, schema_editor):
    _rewrite(apps, common.crypto.encrypt)


def decrypt_rows(apps, schema_editor):
    _rewrite(apps, common.crypto.decrypt)


class Migration(migrations.Migration):
    dependencies = [
        ("scheduling", "0009_visit_words_encrypted_at_rest"),
    ]

    operations = [
        migrations.AlterField(
            model_name="patientevent", name="data", field=models.TextField(blank=True)
        ),
        migrations.AlterField(
            model_name="idempotencykey",
            name="response_body",
            field=models.TextField(blank=True, null=True),
        ),
        migrations.RunPython(encrypt_rows, decrypt_rows, elidable=False),
        migrations.AlterField(
            model_name="idempotencykey",
            name="response_body",
            field=common.crypto.EncryptedJSONField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name="patientevent",
            name="data",
            field=common.crypto.EncryptedJSONField(blank=True, default=dict),
        ),
    ]
