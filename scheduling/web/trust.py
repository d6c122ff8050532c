"""Who runs this Bridgeway and how it uses what a booker types: shown on the booking form
and in the footer of every patient page.

Settings (read here, not in config/settings.py): OPERATOR_NAME, PRIVACY_NOTE (one short
plain-language paragraph; the default below is translated, a configured one is shown as
written) and PRIVACY_URL (an optional page with the full notice). Each is read from Django
settings first, then from the environment.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext

DEFAULT_OPERATOR = "Bridgeway"


def _setting(name: str) -> str:
    return str(getattr(settings, name, None) or os.environ.get(name, "")).strip()


@dataclass(frozen=True)
class Trust:
    operator: str
    note: str
    privacy_url: str


def default_note() -> str:
    return gettext(
        "We use your name, phone number and email only to book your visits and remind you "
        "of them. Texts and email subjects never say what kind of care you get. We do not "
        "sell or share your details."
    )


def trust() -> Trust:
    """The operator's name, the privacy note and its link, as configured (or the defaults)."""
    url = _setting("PRIVACY_URL")
    return Trust(
        operator=_setting("OPERATOR_NAME") or DEFAULT_OPERATOR,
        note=_setting("PRIVACY_NOTE") or default_note(),
        privacy_url=url if url.startswith(("https://", "/")) else "",
    )
