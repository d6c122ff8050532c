"""Email hashes are now of the trimmed, lower-cased address (common.crypto.blind_index):
recompute those of patients with an email. Phones (E.164) hash as before."""

from django.db import migrations

from common.crypto import blind_index

BATCH = 1000


def rehash_emails(apps, schema_editor):
    Patient = apps.get_model("scheduling", "Patient")
    rows = Patient.objects.exclude(email="").only("pk", "email", "email_hash").order_by("pk")
    changed = []
    for patient in rows.iterator(chunk_size=BATCH):
        fresh = blind_index(patient.email)
        if fresh != patient.email_hash:
            patient.email_hash = fresh
            changed.append(patient)
        if len(changed) >= BATCH:
            Patient.objects.bulk_update(changed, ["email_hash"])
            changed = []
    Patient.objects.bulk_update(changed, ["email_hash"])


class Migration(migrations.Migration):
    dependencies = [("scheduling", "0015_busy_interval_covering_index")]

    operations = [migrations.RunPython(rehash_emails, migrations.RunPython.noop, elidable=True)]
