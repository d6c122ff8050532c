"""Seed /resources/ with the crisis line, the national helpline and meeting finders; the
operator edits or adds rows in the admin afterwards."""

from __future__ import annotations

from django.db import migrations

RESOURCES = [
    {
        "kind": "crisis",
        "position": 1,
        "name": "988 Suicide & Crisis Lifeline",
        "description": "Call or text 988, or chat online, any time. Free and confidential.",
        "phone": "988",
        "phone_label": "988",
        "texts": True,
        "url": "https://988lifeline.org/",
    },
    {
        "kind": "treatment",
        "position": 1,
        "name": "SAMHSA's National Helpline",
        "description": "Free, confidential help finding treatment and support, 24 hours a "
        "day, every day of the year, in English and Spanish.",
        "phone": "18006624357",
        "phone_label": "1-800-662-4357",
        "texts": False,
        "url": "https://www.samhsa.gov/find-help/helplines/national-helpline",
    },
    {
        "kind": "treatment",
        "position": 2,
        "name": "FindTreatment.gov",
        "description": "Search state-licensed treatment for substance use near you.",
        "url": "https://findtreatment.gov/",
    },
    {
        "kind": "meetings",
        "position": 1,
        "name": "Narcotics Anonymous: find a meeting",
        "description": "In-person and online NA meetings.",
        "url": "https://www.na.org/meetingsearch/",
    },
    {
        "kind": "meetings",
        "position": 2,
        "name": "SMART Recovery: find a meeting",
        "description": "Science-based mutual-help meetings, in person and online.",
        "url": "https://meetings.smartrecovery.org/",
    },
    {
        "kind": "meetings",
        "position": 3,
        "name": "Alcoholics Anonymous: find a meeting",
        "description": "AA meetings near you and online.",
        "url": "https://www.aa.org/find-aa",
    },
]


def seed(apps, schema_editor):  # type: ignore[no-untyped-def]
    Resource = apps.get_model("scheduling", "Resource")
    for row in RESOURCES:
        Resource.objects.get_or_create(name=row["name"], defaults=row)


def unseed(apps, schema_editor):  # type: ignore[no-untyped-def]
    Resource = apps.get_model("scheduling", "Resource")
    Resource.objects.filter(name__in=[row["name"] for row in RESOURCES]).delete()


class Migration(migrations.Migration):
    dependencies = [("scheduling", "0014_care_circle")]

    operations = [migrations.RunPython(seed, unseed)]
