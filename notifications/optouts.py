"""Opt-outs: a number that said STOP (or that the carrier reports opted out) is never
texted again until it says START."""

from __future__ import annotations

from common.phones import phone_key
from notifications.models import (
    SmsOptOut,
)

# Twilio's own opt-out keywords; a lone CANCEL is one of them, so no message asks for it.
STOP_WORDS = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
)


START_WORDS = frozenset({"START", "UNSTOP", "YES"})


HELP_WORDS = frozenset({"HELP", "INFO"})


def is_opted_out(phone: str) -> bool:
    return SmsOptOut.objects.filter(phone=phone_key(phone)).exists()


def opt_out(*, phone: str, source: str) -> SmsOptOut:
    """Never text this number again until it sends START."""
    opt, _ = SmsOptOut.objects.get_or_create(
        phone=phone_key(phone), defaults={"source": source[:40]}
    )
    return opt


def opt_in(*, phone: str) -> None:
    SmsOptOut.objects.filter(phone=phone_key(phone)).delete()
