"""What people wrote about a referral (a provider's reason to decline, a timeline note)
encrypted at rest.

Three steps, like 0006: plain text columns, every row encrypted under
FIELD_ENCRYPTION_KEYS, then the encrypted type. Unapplying decrypts.
"""

from django.db import migrations, models

import common.crypto

FIELDS = {'ReferralOffer': ('decline_reason',), 'ReferralEvent': ('note',)}


def _rewrite(apps, change):
    for name, fields in FIELDS.items():
        model = apps.get_model("referrals", name)
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
        ("referrals", "0006_referral_encrypted_at_rest"),
    ]

    operations = [
        migrations.AlterField(
            model_name="referraloffer",
            name="decline_reason",
            field=models.TextField(blank=True),
        ),
        migrations.AlterField(
            model_name="referralevent",
            name="note",
            field=models.TextField(blank=True),
        ),
        migrations.RunPython(encrypt_rows, decrypt_rows, elidable=False),
        migrations.AlterField(
            model_name="referraloffer",
            name="decline_reason",
            field=common.crypto.EncryptedTextField(blank=True, max_length=500),
        ),
        migrations.AlterField(
            model_name="referralevent",
            name="note",
            field=common.crypto.EncryptedTextField(blank=True, max_length=500),
        ),
    ]
