"""Phone numbers: one reading of what a person typed (E.164 or nothing), and one key for
numbers that already are E.164 (a carrier's From, a stored recipient)."""

from __future__ import annotations

import re

import phonenumbers
from django.conf import settings
from phonenumber_field.phonenumber import PhoneNumber

from common.crypto import blind_index


def to_e164(raw: object, *, region: str | None = None) -> str | None:
    """The E.164 form of a valid number (national numbers read in `region`), else None."""
    if not isinstance(raw, str) or not raw.strip() or len(raw) > 40:
        return None
    try:
        number = PhoneNumber.from_string(raw, region=region or settings.PHONENUMBER_DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return None
    return number.as_e164 if number.is_valid() else None


def is_textable(phone: str) -> bool:
    """Whether texts may go to this E.164 number (settings.SMS_ALLOWED_COUNTRY_CODES): other
    countries are refused up front, which stops SMS-pumping fraud through our forms."""
    return any(phone.startswith(f"+{code}") for code in settings.SMS_ALLOWED_COUNTRY_CODES)


def phone_key(value: str) -> str:
    """Digits and the leading plus: how an E.164 number is stored and compared."""
    return re.sub(r"[^\d+]", "", value or "")


def phone_hash(phone: str) -> str:
    """The keyed hash an encrypted phone column is found by (its BlindIndexField's value)."""
    return blind_index(phone)
