from __future__ import annotations

import getpass
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q

from common.phones import phone_hash, to_e164
from referrals.access import referral_subject
from referrals.models import Referral, ReferralEvent
from scheduling.audit.models import AuditAction, AuditChannel, AuditRole
from scheduling.audit.report import Line, patient_accounting
from scheduling.audit.services import Accessor, patient_subject, record_access
from scheduling.models import Patient


class Command(BaseCommand):
    help = (
        "Print a patient's accounting: who looked at their records, who changed what, and "
        "every message sent to anyone about them (their appointments and referrals)."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--patient", required=True, metavar="PHONE", help="their number")

    def handle(self, *args: Any, **options: Any) -> None:
        phone = to_e164(options["patient"])
        if phone is None:
            raise CommandError("Give the patient's phone number, e.g. +12125550142.")
        patient = Patient.objects.filter(phone_hash=phone_hash(phone)).first()
        # A referral belongs to a patient row only once they book; until then, its number.
        # (Q(patient=None) would match every unbooked referral: anyone's.)
        theirs = Q(patient_phone_hash=phone_hash(phone))
        if patient is not None:
            theirs |= Q(patient=patient)
        referrals = list(Referral.objects.filter(theirs))
        if patient is None and not referrals:
            raise CommandError("No patient and no referral has this number.")

        contacts = {phone, *(r.patient_email for r in referrals if r.patient_email)}
        if patient is not None and patient.email:
            contacts.add(patient.email)
        events = ReferralEvent.objects.filter(referral__in=referrals).select_related("actor_user")
        more = [
            Line(
                e.at,
                "change",
                f"{e.actor_user.get_username()} ({e.actor})" if e.actor_user else e.actor,
                f"referral {e.referral_id} {e.kind}"
                + (f" ({e.from_status} -> {e.to_status})" if e.from_status != e.to_status else ""),
            )
            for e in events
        ]
        lines = patient_accounting(
            patient=patient,
            contacts=sorted(contacts),
            subjects=[("referral", str(r.pk)) for r in referrals],
            refs=[f"referral:{r.pk}" for r in referrals],
            more=more,
        )

        # Reading the accounting is itself an access to the patient's records.
        subjects = [referral_subject(r) for r in referrals]
        if patient is not None:
            subjects.insert(0, patient_subject(patient))
        record_access(
            accessor=Accessor(
                channel=AuditChannel.COMMAND,
                role=AuditRole.SYSTEM,
                user=None,
                user_agent=f"manage.py audit_report (run by {getpass.getuser()})",
            ),
            action=AuditAction.EXPORT,
            subjects=subjects,
        )

        title = f"patient #{patient.pk}" if patient is not None else "no patient record yet"
        self.stdout.write(
            f"Accounting for {phone} ({title}; {len(referrals)} referral(s)): "
            f"{len(lines)} entries, oldest first"
        )
        for line in lines:
            self.stdout.write(line.render())
