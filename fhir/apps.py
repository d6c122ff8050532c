from __future__ import annotations

import os

from django.apps import AppConfig


class FhirConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "fhir"
    verbose_name = "FHIR"
    # The package's __path__ also holds fhir.resources' directory (see fhir/__init__.py).
    path = os.path.dirname(os.path.abspath(__file__))
