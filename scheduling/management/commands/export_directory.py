from __future__ import annotations

import json
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from scheduling.directory.export import export_directory


class Command(BaseCommand):
    help = (
        "Print the directory as an import document (the import_directory format), to edit and "
        "import back. Only active services are included."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("slugs", nargs="*", help="only these providers (default: all)")

    def handle(self, *args: Any, **options: Any) -> None:
        document = export_directory(slugs=options["slugs"] or None)
        self.stdout.write(json.dumps(document, indent=2, ensure_ascii=False))
