"""The django-q2 Schedule that syncs due external calendars every 10 minutes (after `migrate`).

One run finds every due source by an indexed query (next_attempt_at): no schedule per source.
"""

from django.db import migrations

NAME = "scheduling.sync_calendars"


def create_schedule(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.update_or_create(
        name=NAME,
        defaults={
            "func": "scheduling.tasks.sync_calendars",
            "schedule_type": "I",  # Schedule.MINUTES
            "minutes": 10,
            "repeats": -1,
        },
    )


def delete_schedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("scheduling", "0012_calendar_sources"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(create_schedule, delete_schedule)]
