from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from common.api_tokens import issue_api_token


class Command(BaseCommand):
    help = (
        "Issue an API token (Authorization: Token …) for a user and print it. It is stored "
        "hashed, so this is the only time it can be read; it expires after API_TOKEN_DAYS. "
        "Revoke tokens by deleting them in the admin (Knox: Auth tokens)."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("username")
        parser.add_argument(
            "--days", type=int, default=None, help="expiry in days (default API_TOKEN_DAYS)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        user = get_user_model().objects.filter(username=options["username"]).first()
        if user is None or not user.is_active:
            raise CommandError(f"No active user {options['username']!r}.")
        days = options["days"] if options["days"] is not None else settings.API_TOKEN_DAYS
        if days < 1:
            raise CommandError("--days must be at least 1.")
        self.stdout.write(issue_api_token(user=user, days=days))
