"""Plain text for messages: the one place a text template is rendered (the "text" template
engine, autoescape off) and the one SMS renderer, which keeps every text in GSM-7.

GSM-7 matters for cost and delivery: one character outside it (a curly quote, an emoji, a
non-breaking space) makes the carrier send the whole text as UCS-2, 67 characters a segment
instead of 153.
"""

from __future__ import annotations

import math
import unicodedata
from typing import Any

from django.template import engines

MAX_SMS_SEGMENTS = 2

# GSM 03.38: one character outside these forces UCS-2 and cuts a segment from 153 to 67.
GSM7_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = "^{}\\[~]|€\f"
_GSM7 = frozenset(GSM7_BASIC) | frozenset(GSM7_EXTENSION)
_LOOKALIKES = {
    "\u2018": "'",
    "\u2019": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u2013": "-",
    "\u2014": "-",
    "\u2026": "...",
    "\u00a0": " ",  # a non-breaking space alone would force UCS-2
}


def gsm7(text: str) -> str:
    """Text reduced to the GSM-7 alphabet: look-alikes mapped, accents dropped, rest '?'."""
    if _GSM7.issuperset(text):
        return text  # the usual case, checked in C
    out = []
    for char in text:
        char = _LOOKALIKES.get(char, char)
        if all(c in _GSM7 for c in char):
            out.append(char)
            continue
        plain = "".join(
            c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c)
        )
        out.append(plain if plain and all(c in _GSM7 for c in plain) else "?")
    return "".join(out)


def is_gsm7(text: str) -> bool:
    return all(char in _GSM7 for char in text)


def sms_segments(text: str) -> int:
    """Segments a GSM-7 text needs (extension characters take two septets)."""
    septets = sum(2 if char in GSM7_EXTENSION else 1 for char in text)
    return 1 if septets <= 160 else math.ceil(septets / 153)


def render_text(template_name: str, context: dict[str, Any]) -> str:
    """A plain-text template (no HTML escaping), trimmed."""
    return engines["text"].get_template(template_name).render(context).strip()


def render_line(template_name: str, context: dict[str, Any]) -> str:
    """One line (an email subject): white space folded."""
    return " ".join(render_text(template_name, context).split())


def render_sms(template_name: str, context: dict[str, Any]) -> str:
    """An SMS body: one line, reduced to GSM-7."""
    return gsm7(render_line(template_name, context))
