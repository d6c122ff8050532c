"""Phone numbers and addresses in the outbox, inbound texts and verifications encrypted at
rest and found by keyed hash; opt-outs keep only the hash.

The same three steps as scheduling 0008 (plain text columns and hash columns, then every
row encrypted and hashed, then the encrypted types). Unapplying decrypts everything but the
opt-outs, whose numbers are gone: those rows are deleted (nobody would be protected by a
hash the old code cannot read), so re-run STOP handling or restore from a backup.
"""

from django.db import migrations, models

import common.crypto
from common.phones import phone_key

ENCRYPTED = {
    "Notification": ("recipient", "recipient_hash"),
    "InboundMessage": ("from_number", "from_hash"),
    "PhoneVerification": ("phone", "phone_hash"),
}


def encrypt_rows(apps, schema_editor):
    for name, (field, hashed) in ENCRYPTED.items():
        model = apps.get_model("notifications", name)
        rows = list(model.objects.all().only("pk", field))
        for row in rows:
            value = getattr(row, field)
            setattr(row, hashed, common.crypto.blind_index(value))
            if value:
                setattr(row, field, common.crypto.encrypt(value))
        model.objects.bulk_update(rows, [field, hashed], batch_size=500)
    SmsOptOut = apps.get_model("notifications", "SmsOptOut")
    rows = list(SmsOptOut.objects.all())
    for row in rows:
        row.phone_hash = common.crypto.blind_index(phone_key(row.phone))
    SmsOptOut.objects.bulk_update(rows, ["phone_hash"], batch_size=500)


def decrypt_rows(apps, schema_editor):
    for name, (field, _hashed) in ENCRYPTED.items():
        model = apps.get_model("notifications", name)
        rows = list(model.objects.all().only("pk", field))
        for row in rows:
            value = getattr(row, field)
            if value:
                setattr(row, field, common.crypto.decrypt(value))
        model.objects.bulk_update(rows, [field], batch_size=500)


def forget_opt_outs(apps, schema_editor):
    # Before the number column comes back (unique, so empty values would collide).
    apps.get_model("notifications", "SmsOptOut").objects.all().delete()


def _plain(model_name, field, hashed, max_length):
    return [
        migrations.AlterField(
            model_name=model_name, name=field, field=models.TextField(max_length=max_length)
        ),
        migrations.AddField(
            model_name=model_name,
            name=hashed,
            field=models.CharField(max_length=64, blank=True, default=""),
        ),
    ]


def _typed(model_name, field, hashed, **options):
    return [
        migrations.AlterField(
            model_name=model_name,
            name=field,
            field=common.crypto.EncryptedTextField(**options),
        ),
        migrations.AlterField(
            model_name=model_name,
            name=hashed,
            field=common.crypto.BlindIndexField(db_index=True, source=field),
        ),
    ]


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0005_purge_schedule"),
    ]

    operations = [
        *_plain("notification", "recipient", "recipient_hash", 254),
        *_plain("inboundmessage", "from_number", "from_hash", 20),
        *_plain("phoneverification", "phone", "phone_hash", 20),
        migrations.AddField(
            model_name="smsoptout",
            name="phone_hash",
            field=models.CharField(max_length=64, blank=True, default=""),
        ),
        migrations.RunPython(encrypt_rows, decrypt_rows, elidable=False),
        migrations.RemoveField(model_name="smsoptout", name="phone"),
        migrations.RunPython(migrations.RunPython.noop, forget_opt_outs, elidable=False),
        migrations.AlterField(
            model_name="smsoptout",
            name="phone_hash",
            field=models.CharField(max_length=64, unique=True),
        ),
        *_typed(
            "notification",
            "recipient",
            "recipient_hash",
            help_text="E.164 phone or email address",
            max_length=254,
        ),
        *_typed("inboundmessage", "from_number", "from_hash", max_length=20),
        *_typed("phoneverification", "phone", "phone_hash", max_length=20),
    ]
