"""Inbound texts: carrier keywords (STOP, START, HELP) first, then the reply handler named
in settings.SMS_REPLY_HANDLER; one answer per MessageSid, however often it is replayed.
A keyword opt-out is told to settings.SMS_OPT_OUT_OBSERVERS (notifications.optouts)."""

from __future__ import annotations

import re
from typing import Protocol

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.module_loading import import_string

from common.phones import phone_key
from notifications.models import (
    InboundMessage,
)
from notifications.optouts import (
    HELP_WORDS,
    START_WORDS,
    STOP_WORDS,
    opt_in,
    opt_out,
)

STOP_REPLY = "You will get no more texts from this number. Reply START to opt back in."


START_REPLY = "You will get texts from this number again. Reply HELP for help, STOP to opt out."


def help_reply() -> str:
    """HELP: who we are, the crisis line, the resources page (served by scheduling.circle),
    how to stop."""
    return (
        f"{settings.SERVICE_CONTACT_LINE} To talk to someone now, call or text 988. "
        f"Help: {settings.PUBLIC_BASE_URL}/resources/ Reply STOP to opt out."
    )


class ReplyHandler(Protocol):
    def __call__(self, *, from_number: str, body: str) -> str | None: ...


def reply_word(body: str) -> str:
    """The one word of a reply as carriers read it: trimmed, upper case, trailing '.!?' off."""
    return re.sub(r"[\s.!?]+$", "", (body or "").strip()).upper()


def _answer(*, from_number: str, body: str) -> str:
    word = reply_word(body)
    if word in STOP_WORDS:
        opt_out(phone=from_number, source="keyword")
        return STOP_REPLY
    if word in START_WORDS:
        opt_in(phone=from_number)
        return START_REPLY
    if word in HELP_WORDS:
        return help_reply()
    handler: ReplyHandler = import_string(settings.SMS_REPLY_HANDLER)
    answer = handler(from_number=from_number, body=body)
    return answer if answer is not None else settings.SERVICE_CONTACT_LINE


@transaction.atomic
def handle_inbound(*, message_sid: str, from_number: str, body: str) -> str:
    """Answer an inbound SMS once per MessageSid; a replay gets the stored answer."""
    from_number = phone_key(from_number)
    try:
        with transaction.atomic():
            inbound = InboundMessage.objects.create(
                message_sid=message_sid[:64], from_number=from_number[:20], body=body[:1600]
            )
    except IntegrityError:
        return InboundMessage.objects.get(message_sid=message_sid[:64]).reply
    inbound.reply = _answer(from_number=from_number, body=body)
    inbound.save(update_fields=["reply"])
    return inbound.reply
