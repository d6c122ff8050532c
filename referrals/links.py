"""The patient's self-scheduling link (/r/<token>): derived from the referral, stored hashed."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError

from common.tokens import derive_token, hash_token
from notifications.sealing import SEAL
from referrals.models import Referral

TOKEN_PURPOSE = "referral"


def referral_token(referral: Referral) -> str:
    return derive_token(TOKEN_PURPOSE, referral.id, referral.token_salt)


def referral_url(referral: Referral) -> str:
    """The patient's self-scheduling link (the pages app serves /r/<token>)."""
    return f"{settings.PUBLIC_BASE_URL}/r/{referral_token(referral)}"


def sealed_referral_url(referral: Referral) -> str:
    """The link as a recorded message holds it: the token is put back at send time."""
    return f"{settings.PUBLIC_BASE_URL}/r/{SEAL}"


def token_for_message(referral_id: str) -> str | None:
    """The link token a sealed message about this referral needs (at send time)."""
    try:
        found = Referral.objects.filter(pk=referral_id).only("token_salt").first()
    except (ValueError, ValidationError):
        return None
    return referral_token(found) if found is not None else None


def referral_for_token(token: object) -> Referral | None:
    """The referral a self-scheduling token opens, or None (the hash column is unique)."""
    if not isinstance(token, str) or not token or len(token) > 200:
        return None
    return (
        Referral.objects.select_related("appointment").filter(token_hash=hash_token(token)).first()
    )
