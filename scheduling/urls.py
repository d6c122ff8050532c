"""API routes of the scheduling app (mounted under /api/)."""

from __future__ import annotations

from django.urls import path  # noqa: F401

from scheduling.import_views import DirectoryImportView

urlpatterns: list = [
    path("directory/import/", DirectoryImportView.as_view(), name="directory-import"),
]
