"""Opt-outs: a number that said STOP (or that the carrier reports opted out) is never
texted again until it says START."""

from __future__ import annotations

from django.conf import settings
from django.db import connections, router
from django.utils.module_loading import import_string

from common.phones import phone_hash, phone_key
from notifications.models import (
    SmsOptOut,
)

# Twilio's own opt-out keywords; a lone CANCEL is one of them, so no message asks for it.
STOP_WORDS = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
)


START_WORDS = frozenset({"START", "UNSTOP", "YES"})


HELP_WORDS = frozenset({"HELP", "INFO"})


def opt_out_key(phone: str) -> str:
    """What the opt-out table holds for a number: the keyed hash of its E.164 form."""
    return phone_hash(phone_key(phone))


def is_opted_out(phone: str) -> bool:
    return SmsOptOut.objects.filter(phone_hash=opt_out_key(phone)).exists()


def opted_out_among(phones: set[str]) -> set[str]:
    """The numbers of `phones` that opted out (one query)."""
    by_key = {opt_out_key(phone): phone for phone in phones}
    if not by_key:
        return set()
    # Hand-written: once a booking, and the ORM's query building cost ~0.7 ms of CPU.
    connection = connections[router.db_for_read(SmsOptOut)]
    quote = connection.ops.quote_name
    column = quote(str(SmsOptOut._meta.get_field("phone_hash").column))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {column} FROM {quote(SmsOptOut._meta.db_table)} "  # noqa: S608 - identifiers
            f"WHERE {column} IN ({', '.join(['%s'] * len(by_key))})",
            list(by_key),
        )
        return {by_key[key] for (key,) in cursor.fetchall()}


def opt_out(*, phone: str, source: str) -> SmsOptOut:
    """Never text this number again until it sends START. A number newly opted out, by its
    own STOP or by the carrier (error 21610), is told to settings.SMS_OPT_OUT_OBSERVERS in
    this transaction."""
    opt, created = SmsOptOut.objects.get_or_create(
        phone_hash=opt_out_key(phone), defaults={"source": source[:40]}
    )
    if created:
        for observer in settings.SMS_OPT_OUT_OBSERVERS:
            import_string(observer)(phone=phone)
    return opt


def opt_in(*, phone: str) -> None:
    SmsOptOut.objects.filter(phone_hash=opt_out_key(phone)).delete()
