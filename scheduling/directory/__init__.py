"""Validating and importing the directory document (all or nothing).

The whole document is validated first and every problem is collected, each with a path
that names the provider slug and the field (``dana-whitfield.weekly_hours[2].end``). Only
a document without a single error is written, in one transaction.

Upsert rules: providers by slug, services by (provider, slug). A list present in the file
(licensed states, vocabularies, services, weekly hours, overrides, time off) replaces the
stored one; services missing from a present ``services`` list are deactivated, never
deleted, because appointments reference them. A scalar field left out keeps its stored
value (or the model default for a new provider). Vocabulary slugs not yet known are
created with a readable name, so an operator can rename them later in the admin.
"""

from __future__ import annotations

from scheduling.directory.names import language_name, vocabulary_name
from scheduling.directory.readers import WEEKDAYS
from scheduling.directory.validation import (
    KINDS,
    DirectoryInvalid,
    ProviderSpec,
    ServiceSpec,
    validate_directory,
)
from scheduling.directory.writer import ImportSummary, import_directory

__all__ = [
    "KINDS",
    "WEEKDAYS",
    "DirectoryInvalid",
    "ImportSummary",
    "ProviderSpec",
    "ServiceSpec",
    "import_directory",
    "language_name",
    "validate_directory",
    "vocabulary_name",
]
