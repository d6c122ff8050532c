from __future__ import annotations

from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand

from common.crypto import encrypted_fields, reencrypt_model


class Command(BaseCommand):
    help = (
        "Re-encrypt every encrypted column (history tables included) under the newest key "
        "of FIELD_ENCRYPTION_KEYS, in batches. Safe to rerun; afterwards the older keys "
        "can be removed."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args: Any, **options: Any) -> None:
        for model in apps.get_models():
            if model._meta.proxy or not model._meta.managed or not encrypted_fields(model):
                continue
            count = reencrypt_model(model, batch_size=options["batch_size"])
            self.stdout.write(f"{model._meta.label}: {count} rows re-encrypted")
