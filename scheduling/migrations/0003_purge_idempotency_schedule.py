"""The django-q2 Schedule that purges expired Idempotency-Key answers once a day.

Keys are never replayed after 24 h (run_idempotent ignores them), so this only keeps the
table small; a daily sweep by the indexed created_at is enough.
"""

from django.db import migrations

NAME = "scheduling.purge_idempotency_keys"


def create_schedule(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.update_or_create(
        name=NAME,
        defaults={
            "func": "scheduling.tasks.purge_idempotency_keys",
            "schedule_type": "D",  # Schedule.DAILY
            "repeats": -1,
        },
    )


def delete_schedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("scheduling", "0002_appointment_no_overlap"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(create_schedule, delete_schedule)]
