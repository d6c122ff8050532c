"""Sealed links: the outbox never stores a working link token.

A message is recorded with SEAL where a private link's token goes; the token is put back
only when the message is sent (or shown on the development outbox page), by the resolver
settings.NOTIFICATION_LINK_RESOLVERS names for the row's subject ("appointment:<id>" ->
a function of the id). A leaked database or backup then opens no one's appointment.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.utils.module_loading import import_string

# As long as a link token (22 characters) and GSM-7, so a sealed text is measured right.
SEAL = "LINK_TOKEN_PLACEHOLDER"
# Folded iCalendar lines (CRLF and a space every 75 octets) may cut through the seal.
_FOLDED = re.compile("".join(f"{re.escape(char)}(\r\n[ \t])?" for char in SEAL[:-1]) + SEAL[-1])


def _replace(text: str, token: str) -> str:
    def put_back(match: re.Match[str]) -> str:
        folds = match.groups()
        return "".join(char + (folds[i] or "") for i, char in enumerate(token[:-1])) + token[-1]

    return _FOLDED.sub(put_back, text)


def unsealer(subject_ref: str) -> Callable[[str], str]:
    """The function that puts this subject's link token back into a text."""
    kind, _, object_id = subject_ref.partition(":")
    path = getattr(settings, "NOTIFICATION_LINK_RESOLVERS", {}).get(kind)
    token = import_string(path)(object_id) if path and object_id else None
    if not token or len(token) != len(SEAL):
        return lambda text: text
    return lambda text: _replace(text, token) if text else text


def unseal_attachments(attachments: list[dict[str, Any]], unseal: Callable[[str], str]) -> list:
    return [{**item, "content": unseal(str(item.get("content", "")))} for item in attachments]
