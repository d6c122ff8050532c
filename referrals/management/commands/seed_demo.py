from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from referrals.demo import seed_demo


class Command(BaseCommand):
    help = (
        "Load or refresh the demo directory (48 providers), patients, bookings and referrals. "
        "Idempotent; dates are relative to today. With DEBUG on, also creates development logins."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        result = seed_demo()
        self.stdout.write(f"Demo directory: {result.directory}")
        self.stdout.write(
            f"Demo patients: {result.patients}; bookings: {result.appointments_created} created, "
            f"{result.appointments_moved} moved to fresh dates, "
            f"{result.appointments_removed} removed; referrals: {result.referrals_created} created."
        )
        if not result.logins:
            if not settings.DEBUG:
                self.stdout.write("DEBUG is off: no development logins were created.")
            return
        self.stdout.write(
            self.style.WARNING("Development logins (DEBUG only, never in production):")
        )
        for role, username, password in result.logins:
            self.stdout.write(f"  {role}: {username} / {password}")
        self.stdout.write(f"  API token for {result.logins[0][1]}: {result.api_token}")
