"""Email hashes are now of the trimmed, lower-cased address (common.crypto.blind_index):
recompute the recipient hash of emails in the outbox. Texts' numbers hash as before."""

from django.db import migrations

from common.crypto import blind_index

BATCH = 1000


def rehash_emails(apps, schema_editor):
    Notification = apps.get_model("notifications", "Notification")
    rows = (
        Notification.objects.filter(channel="email")
        .only("pk", "recipient", "recipient_hash")
        .order_by("pk")
    )
    changed = []
    for message in rows.iterator(chunk_size=BATCH):
        fresh = blind_index(message.recipient)
        if fresh != message.recipient_hash:
            message.recipient_hash = fresh
            changed.append(message)
        if len(changed) >= BATCH:
            Notification.objects.bulk_update(changed, ["recipient_hash"])
            changed = []
    Notification.objects.bulk_update(changed, ["recipient_hash"])


class Migration(migrations.Migration):
    dependencies = [("notifications", "0010_merge_encrypted_words_and_heartbeat")]

    operations = [migrations.RunPython(rehash_emails, migrations.RunPython.noop, elidable=True)]
