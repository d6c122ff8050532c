"""What people wrote about a visit (a cancellation's reason, on the appointment and in its
timeline) encrypted at rest.

Three steps, like 0008: plain text columns, every row encrypted under
FIELD_ENCRYPTION_KEYS, then the encrypted type. Unapplying decrypts.
"""

from django.db import migrations, models

import common.crypto

FIELDS = {'Appointment': ('cancel_reason',), 'AppointmentEvent': ('reason',)}


def _rewrite(apps, change):
    for name, fields in FIELDS.items():
        model = apps.get_model("scheduling", name)
        rows = list(model.objects.all().only("pk", *fields))
        for row in rows:
            for field in fields:
                value = getattr(row, field)
                if value:
                    setattr(row, field, change(value))
        model.objects.bulk_update(rows, list(fields), batch_size=500)


def encrypt_rows(apps, schema_editor):
    _rewrite(apps, common.crypto.encrypt)


def decrypt_rows(apps, schema_editor):
    _rewrite(apps, common.crypto.decrypt)


class Migration(migrations.Migration):
    dependencies = [
        ("scheduling", "0008_patient_encrypted_at_rest"),
    ]

    operations = [
        migrations.AlterField(
            model_name="appointment",
            name="cancel_reason",
            field=models.TextField(blank=True),
        ),
        migrations.AlterField(
            model_name="appointmentevent",
            name="reason",
            field=models.TextField(blank=True),
        ),
        migrations.RunPython(encrypt_rows, decrypt_rows, elidable=False),
        migrations.AlterField(
            model_name="appointment",
            name="cancel_reason",
            field=common.crypto.EncryptedTextField(blank=True, max_length=500),
        ),
        migrations.AlterField(
            model_name="appointmentevent",
            name="reason",
            field=common.crypto.EncryptedTextField(blank=True, max_length=500),
        ),
    ]
