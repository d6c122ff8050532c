"""A waitlist entry's private link, made like a manage link: derived from (id, salt), only
its hash stored, sealed in the outbox as `waitlist:<id>`."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError

from common.tokens import derive_token, hash_token, new_salt
from notifications.sealing import SEAL
from scheduling.booking.waitlist.models import WaitlistEntry

PURPOSE = "waitlist"


def new_token_fields(entry_id: uuid.UUID) -> dict[str, str]:
    salt = new_salt()
    return {
        "manage_token_salt": salt,
        "manage_token_hash": hash_token(derive_token(PURPOSE, entry_id, salt)),
    }


def entry_token(entry: WaitlistEntry) -> str:
    return derive_token(PURPOSE, entry.id, entry.manage_token_salt)


def entry_url(entry: WaitlistEntry) -> str:
    return f"{settings.PUBLIC_BASE_URL}/w/{entry_token(entry)}"


def sealed_entry_url() -> str:
    return f"{settings.PUBLIC_BASE_URL}/w/{SEAL}"


def token_for_message(entry_id: str) -> str | None:
    """The entry token a sealed message about this entry needs (at send time)."""
    try:
        found = WaitlistEntry.objects.filter(pk=entry_id).only("manage_token_salt").first()
    except (ValueError, ValidationError):
        return None
    return entry_token(found) if found is not None else None


def entry_for_token(token: object) -> WaitlistEntry | None:
    """The entry a waitlist token opens, or None (the hash column is unique)."""
    if not isinstance(token, str) or not token or len(token) > 200:
        return None
    return (
        WaitlistEntry.objects.select_related("provider", "service", "patient")
        .filter(manage_token_hash=hash_token(token))
        .first()
    )
