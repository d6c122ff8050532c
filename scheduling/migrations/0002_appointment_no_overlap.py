"""PostgreSQL refuses overlapping active appointments of one provider.

Appointments with the same session_key (seats of one group session) may share time.
SQLite has no exclusion constraints; there the IMMEDIATE transaction serializes writers
and the booking service re-checks overlaps inside it.
"""

from __future__ import annotations

from django.db import migrations

CREATE = """
CREATE EXTENSION IF NOT EXISTS btree_gist;
ALTER TABLE scheduling_appointment ADD CONSTRAINT appointment_no_overlap
    EXCLUDE USING gist (
        provider_id WITH =,
        tstzrange(blocked_start, blocked_end, '[)') WITH &&,
        session_key WITH <>
    ) WHERE (status IN ('requested', 'confirmed'));
"""
DROP = "ALTER TABLE scheduling_appointment DROP CONSTRAINT IF EXISTS appointment_no_overlap;"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("scheduling", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
