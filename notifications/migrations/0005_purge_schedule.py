"""The django-q2 Schedule that purges expired message bodies and inbound texts daily."""

from django.db import migrations

NAME = "notifications.purge_expired"


def create_schedule(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.update_or_create(
        name=NAME,
        defaults={
            "func": "notifications.tasks.purge_expired",
            "schedule_type": "D",  # Schedule.DAILY
            "repeats": -1,
        },
    )


def delete_schedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [("notifications", "0004_phone_verification")]

    operations = [migrations.RunPython(create_schedule, delete_schedule)]
