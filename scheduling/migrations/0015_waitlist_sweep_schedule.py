"""The django-q2 Schedule that ends lapsed waitlist holds and offers freed places every minute.

One run finds lapsed holds by an indexed query (held offers by expires_at) and the
providers with anyone waiting: no schedule per offer.
"""

from django.db import migrations

NAME = "scheduling.sweep_waitlist"


def create_schedule(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.update_or_create(
        name=NAME,
        defaults={
            "func": "scheduling.tasks.sweep_waitlist",
            "schedule_type": "I",  # Schedule.MINUTES
            "minutes": 1,
            "repeats": -1,
        },
    )


def delete_schedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("scheduling", "0014_waitlist_and_open_groups"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(create_schedule, delete_schedule)]
