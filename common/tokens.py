"""Link tokens that are stored only as hashes yet can be derived again to render links.

A token is an HMAC of (purpose, object id, salt) under SECRET_KEY. The database keeps only
its SHA-256, so a database leak reveals no working link; the service can still put the link
into a reminder rendered days later. Rotating the salt revokes every earlier link.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from django.utils.crypto import salted_hmac


def new_salt() -> str:
    return secrets.token_hex(8)


def derive_token(purpose: str, object_id: object, salt: str) -> str:
    digest = salted_hmac(f"bridgeway.{purpose}", f"{object_id}:{salt}", algorithm="sha256").digest()
    return base64.urlsafe_b64encode(digest[:16]).decode().rstrip("=")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_matches(token: str | None, stored_hash: str) -> bool:
    """Constant-time check of a presented token against the stored hash."""
    if not token or not stored_hash:
        return False
    return hmac.compare_digest(hash_token(token), stored_hash)
