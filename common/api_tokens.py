"""API tokens for `Authorization: Token …` (django-rest-knox).

The database keeps a SHA-512 digest and a 15-character lookup prefix, never the token, so
a copy of the database opens nothing; each token expires after API_TOKEN_DAYS.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from knox.models import AuthToken


def issue_api_token(*, user: Any, days: int | None = None) -> str:
    """Create a token for `user` and return it: the only time it can be read."""
    ttl = timedelta(days=days) if days is not None else None
    _, token = AuthToken.objects.create(user=user, **({"expiry": ttl} if ttl else {}))
    return str(token)
