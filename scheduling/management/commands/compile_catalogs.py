"""Compile the translation catalogs with polib (pure Python: no gettext's msgfmt needed).

`--update` first runs makemessages for the patient-facing strings of the scheduling app
(that step needs gettext's xgettext). Then every locale/*/LC_MESSAGES/django.po of the
project's apps is compiled to its .mo, which is committed; tests/scheduling/test_spanish.py
checks each .mo matches its .po and that no entry is left untranslated.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import BaseCommand, call_command

MAKEMESSAGES_IGNORE = [
    "templates/scheduling/portal/*",
    "templates/admin/*",
    "templates/registration/*",
    "templates/api/*",
    "static/*",
    "management/*",
    "migrations/*",
]


class Command(BaseCommand):
    help = "Compile locale/*/LC_MESSAGES/django.po to .mo with polib (--update: refresh first)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--update", action="store_true", help="run makemessages first")

    def handle(self, *args: Any, **options: Any) -> None:
        import os

        import polib  # a dev dependency: catalogs are compiled by developers, not servers

        root = Path(settings.BASE_DIR)
        if options["update"]:
            here = Path.cwd()
            try:
                os.chdir(root / "scheduling")
                call_command(
                    "makemessages",
                    locale=["es"],
                    no_location=True,
                    ignore_patterns=MAKEMESSAGES_IGNORE,
                )
            finally:
                os.chdir(here)
        for po_path in sorted(root.glob("*/locale/*/LC_MESSAGES/django.po")):
            po = polib.pofile(str(po_path))
            po.save_as_mofile(str(po_path.with_suffix(".mo")))
            self.stdout.write(f"{po_path.relative_to(root)}: {po.percent_translated()}% translated")
