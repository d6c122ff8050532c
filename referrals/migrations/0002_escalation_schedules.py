"""Create the django-q2 schedules for escalation and nudges, so they exist after migrate."""

from django.db import migrations
from django.utils import timezone

SCHEDULES = [
    ("referrals: escalate overdue", "referrals.tasks.escalate_overdue"),
    ("referrals: nudge unbooked patients", "referrals.tasks.nudge_unbooked"),
]


def create_schedules(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    for name, func in SCHEDULES:
        if not Schedule.objects.filter(func=func).exists():
            Schedule.objects.create(
                name=name,
                func=func,
                schedule_type="I",  # Schedule.MINUTES
                minutes=5,
                repeats=-1,
                next_run=timezone.now(),
            )


def remove_schedules(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.filter(func__in=[func for _, func in SCHEDULES]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("referrals", "0001_referrals_offers_events"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(create_schedules, remove_schedules)]
