"""The operator edits /resources/ here (imported by scheduling/admin.py). Support persons,
consents and disclosures are the patient's own and are shown on their private page only."""

from __future__ import annotations

from django.contrib import admin

from scheduling.circle.models import Resource


@admin.register(Resource)
class ResourceAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "phone_label", "url", "position", "is_active")
    list_filter = ("kind", "is_active")
    list_editable = ("position", "is_active")
    search_fields = ("name", "description")
