from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from common.events import Actor
from common.phones import phone_hash, to_e164
from scheduling.booking.erasure import erase_patient
from scheduling.models import Patient


class Command(BaseCommand):
    help = (
        "Anonymize a patient everywhere (name, phone, email, free text, messages); "
        "appointment times, statuses and the audit trail stay. Future visits are cancelled."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--phone", required=True, help="the patient's phone number")
        parser.add_argument("--yes", action="store_true", help="confirm: this cannot be undone")

    def handle(self, *args: Any, **options: Any) -> None:
        phone = to_e164(options["phone"])
        patient = Patient.objects.filter(phone_hash=phone_hash(phone)).first() if phone else None
        if patient is None:
            raise CommandError("No patient has that phone number.")
        if not options["yes"]:
            raise CommandError("Erasing cannot be undone: run again with --yes to confirm.")
        erased = erase_patient(patient=patient, actor=Actor.STAFF)
        self.stdout.write(f"Patient {erased.pk} erased.")
