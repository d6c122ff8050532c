"""The words of each message (subject, bodies, attachments, the carrier's error text, which
can quote the number) encrypted at rest; a purged
body becomes empty instead of "[purged]" (an encrypted column compares in SQL only with "").

Three steps, like 0006: plain text columns, every row encrypted, then the encrypted types.
Unapplying decrypts them (purged bodies stay empty).
"""

from django.db import migrations, models

import common.crypto

TEXTS = ("subject", "body", "html_body", "last_error")


def encrypt_rows(apps, schema_editor):
    Notification = apps.get_model("notifications", "Notification")
    rows = list(Notification.objects.all().only("pk", *TEXTS, "attachments"))
    for row in rows:
        if row.body == "[purged]":
            row.body = ""
        for field in (*TEXTS, "attachments"):
            value = getattr(row, field)
            if value:
                setattr(row, field, common.crypto.encrypt(value))
    Notification.objects.bulk_update(rows, [*TEXTS, "attachments"], batch_size=500)


def decrypt_rows(apps, schema_editor):
    Notification = apps.get_model("notifications", "Notification")
    rows = list(Notification.objects.all().only("pk", *TEXTS, "attachments"))
    for row in rows:
        for field in (*TEXTS, "attachments"):
            value = getattr(row, field)
            if value:
                setattr(row, field, common.crypto.decrypt(value))
        row.attachments = row.attachments or "[]"
    Notification.objects.bulk_update(rows, [*TEXTS, "attachments"], batch_size=500)


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0006_addresses_encrypted_at_rest"),
    ]

    operations = [
        migrations.AlterField(
            model_name="notification", name="subject", field=models.TextField(blank=True)
        ),
        migrations.AlterField(
            model_name="notification", name="attachments", field=models.TextField(blank=True)
        ),
        migrations.AlterField(
            model_name="notification", name="last_error", field=models.TextField(blank=True)
        ),
        migrations.RunPython(encrypt_rows, decrypt_rows, elidable=False),
        migrations.AlterField(
            model_name="notification",
            name="attachments",
            field=common.crypto.EncryptedJSONField(blank=True, default=list),
        ),
        migrations.AlterField(
            model_name="notification",
            name="body",
            field=common.crypto.EncryptedTextField(),
        ),
        migrations.AlterField(
            model_name="notification",
            name="html_body",
            field=common.crypto.EncryptedTextField(blank=True),
        ),
        migrations.AlterField(
            model_name="notification",
            name="last_error",
            field=common.crypto.EncryptedTextField(blank=True, max_length=500),
        ),
        migrations.AlterField(
            model_name="notification",
            name="subject",
            field=common.crypto.EncryptedTextField(blank=True, max_length=200),
        ),
    ]
