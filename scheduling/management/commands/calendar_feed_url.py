from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from common.errors import DomainError
from scheduling.calendar.feeds import feed_token, feed_url, rotate_feed_token
from scheduling.models import Provider


class Command(BaseCommand):
    help = (
        "Print a provider's private calendar feed URL (issuing one if needed). "
        "--rotate replaces it: the old URL answers 404 from the next request on."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("slug", help="the provider's slug")
        parser.add_argument(
            "--rotate", action="store_true", help="issue a new URL and revoke the old one"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        provider = Provider.objects.filter(slug=options["slug"]).first()
        if provider is None:
            raise CommandError(f"No provider with slug {options['slug']!r}.")
        try:
            token = (
                rotate_feed_token(provider=provider)
                if options["rotate"]
                else feed_token(provider=provider)
            )
        except DomainError as exc:
            raise CommandError(f"{exc.detail} Run again with --rotate.") from exc
        self.stdout.write(feed_url(token))
