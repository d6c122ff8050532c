from __future__ import annotations

import json
import sys
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from common.errors import DomainError
from scheduling.directory import DirectoryInvalid, import_directory


class Command(BaseCommand):
    help = (
        "Import the provider directory from a JSON file (CONTRACT format): validates everything "
        "first, then upserts by slug in one transaction; on any error nothing is written."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("file", help="path to the JSON document, or - for standard input")

    def handle(self, *args: Any, **options: Any) -> None:
        path = options["file"]
        try:
            if path == "-":
                document = json.load(sys.stdin)
            else:
                with open(path, encoding="utf-8") as handle:
                    document = json.load(handle)
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror or exc}") from exc
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise CommandError(f"{path} is not valid JSON: {exc}") from exc

        try:
            summary = import_directory(document=document)
        except DirectoryInvalid as exc:
            for error in exc.errors:
                self.stderr.write(f"{error['path']}: {error['message']}")
            raise CommandError(exc.detail) from exc
        except DomainError as exc:
            raise CommandError(exc.detail) from exc
        self.stdout.write(self.style.SUCCESS(str(summary)))
