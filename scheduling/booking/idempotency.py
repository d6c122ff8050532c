"""Idempotency-Key for POSTs: the same key and body replay the first answer; nothing is redone.

A key belongs to the client that made it (`client_scope`): the answer holds a private
manage link, so another client sending the same key and body is a fresh request.

The key row is inserted in the same transaction as the work and updated with the answer
before commit, so a concurrent request with the same key waits on the unique index
(PostgreSQL) or the write lock (SQLite IMMEDIATE) and then finds the finished answer.
Domain errors (4xx) are stored afterwards so a retry gets the same refusal; 5xx and
"busy" answers are not, so a retry may succeed. Keys expire after KEY_TTL.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac

from common.api import error_body
from common.errors import DomainError
from scheduling.models import IdempotencyKey

KEY_TTL = timedelta(hours=24)
MAX_KEY_LENGTH = 200

Answer = tuple[int, Any]


class _Taken(Exception):
    pass


def fingerprint(data: Any) -> str:
    """SHA-256 of the request body in canonical JSON (key order and spacing do not matter)."""
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def client_scope(scope: str, *, client: str) -> str:
    """`scope` narrowed to one client (a user, or an address), kept only as a keyed hash so
    the table holds no addresses; it adds 33 characters to `scope` (a 64-character column)."""
    digest = salted_hmac("bridgeway.idempotency", client, algorithm="sha256").hexdigest()
    return f"{scope}:{digest[:32]}"


def clean_key(raw: object) -> str | None:
    if raw is None or raw == "":
        return None
    if not isinstance(raw, str) or len(raw) > MAX_KEY_LENGTH or not raw.isprintable():
        raise DomainError(
            "invalid_idempotency_key",
            f"Idempotency-Key must be printable text of at most {MAX_KEY_LENGTH} characters.",
        )
    return raw


def _identity(body: Any) -> Any:
    return body


def _stored_answer(
    *, scope: str, key: str, request_hash: str, now: datetime, restore: Callable[[Any], Any]
) -> Answer | None:
    row = IdempotencyKey.objects.filter(scope=scope, key=key).first()
    if row is None or row.response_status is None:
        return None
    if row.created_at <= now - KEY_TTL:
        IdempotencyKey.objects.filter(pk=row.pk).delete()
        return None
    if row.request_hash != request_hash:
        raise DomainError(
            "idempotency_key_reused",
            "This Idempotency-Key was already used with a different request.",
            status=409,
        )
    return row.response_status, restore(row.response_body)


def _store_error(*, scope: str, key: str, request_hash: str, exc: DomainError) -> None:
    try:
        with transaction.atomic():
            IdempotencyKey.objects.create(
                scope=scope,
                key=key,
                request_hash=request_hash,
                response_status=exc.status,
                response_body=error_body(exc.code, exc.detail, exc.fields),
            )
    except IntegrityError:
        pass  # a concurrent request with the same key stored its answer first


def run_idempotent(
    *,
    scope: str,
    key: str,
    request_hash: str,
    work: Callable[[], Answer],
    redact: Callable[[Any], Any] = _identity,
    restore: Callable[[Any], Any] = _identity,
) -> tuple[int, Any, bool]:
    """Run `work` once per (scope, key); return (status, body, replayed).

    `redact` turns the body into what is stored (e.g. without secret links) and `restore`
    turns a stored body back into the answer.
    """
    now = timezone.now()
    for _attempt in range(2):
        try:
            with transaction.atomic():
                try:
                    # No savepoint: a duplicate aborts this transaction, and we leave it at once.
                    IdempotencyKey.objects.create(
                        scope=scope, key=key, request_hash=request_hash, created_at=now
                    )
                except IntegrityError:
                    raise _Taken() from None
                status, body = work()
                IdempotencyKey.objects.filter(scope=scope, key=key).update(
                    response_status=status, response_body=redact(body)
                )
            return status, body, False
        except _Taken:
            answer = _stored_answer(
                scope=scope, key=key, request_hash=request_hash, now=now, restore=restore
            )
            if answer is not None:
                return answer[0], answer[1], True
            # The stored row had expired and is gone: claim the key afresh.
        except DomainError as exc:
            if exc.status < 500:
                _store_error(scope=scope, key=key, request_hash=request_hash, exc=exc)
            raise
    raise DomainError(
        "busy", "The same request is being processed; retry shortly.", status=409
    )  # pragma: no cover - only when an expired key is re-claimed twice in one request


def purge_expired_keys(*, now: datetime | None = None) -> int:
    """Delete stored answers older than KEY_TTL (they are never replayed); returns how many."""
    cutoff = (now or timezone.now()) - KEY_TTL
    deleted, _ = IdempotencyKey.objects.filter(created_at__lte=cutoff).delete()
    return deleted
