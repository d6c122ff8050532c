"""A provider's private calendar feed: its token, what it shows, and its fingerprint.

The feed URL carries a token derived (common.tokens) from the provider id and a salt; the
database keeps only its SHA-256. Rotating the salt changes the token and the stored hash
together, so the old URL stops matching on the very next request.

One statement finds the provider by the token's hash and fingerprints what its feed shows
(count, latest change and summed SEQUENCE of the visible appointments, plus the provider's
own settings); the fingerprint is the ETag and the cache key of the rendered bytes. So a
304 or an unchanged feed costs one query and no rendering; a changed feed adds one query
for its rows, whatever their number.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import NamedTuple

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from common.crypto import UndecryptableValue, decrypt_bytes, encrypt_bytes
from common.errors import DomainError
from common.tokens import derive_token, hash_token, new_salt, token_matches
from scheduling.calendar import invites as ical
from scheduling.models import Appointment, AppointmentStatus, Patient, Provider, Service

FEED_PURPOSE = "calendar-feed"
FEED_PAST = timedelta(days=30)
CANCELLED_KEPT = timedelta(days=30)
DEFAULT_HORIZON_DAYS = 60
# Bump when the rendering changes, so cached feeds and ETags from before are not reused.
RENDER_VERSION = "4"
CACHE_TIMEOUT = 24 * 3600
_MAX_TOKEN_LENGTH = 64


def feed_url(token: str) -> str:
    return f"{settings.PUBLIC_BASE_URL}/calendar/{token}.ics"


def _derive(provider: Provider) -> str:
    return derive_token(FEED_PURPOSE, provider.pk, provider.feed_token_salt)


@transaction.atomic
def _issue(provider: Provider, *, replace: bool) -> str:
    # Under the row lock, so two first requests for a URL cannot issue two tokens.
    locked = Provider.objects.select_for_update().get(pk=provider.pk)
    if replace or not (locked.feed_token_salt and locked.feed_token_hash):
        locked.feed_token_salt = new_salt()
        locked.feed_token_hash = hash_token(_derive(locked))
        locked.save(update_fields=["feed_token_salt", "feed_token_hash", "updated_at"])
    provider.feed_token_salt = locked.feed_token_salt
    provider.feed_token_hash = locked.feed_token_hash
    provider.updated_at = locked.updated_at
    return _derive(locked)


def rotate_feed_token(*, provider: Provider) -> str:
    """Give the provider a new feed token; the previous one stops working at once."""
    return _issue(provider, replace=True)


def feed_token(*, provider: Provider) -> str:
    """The provider's current feed token, issuing the first one when there is none."""
    if provider.feed_token_salt and provider.feed_token_hash:
        token = _derive(provider)
    else:
        token = _issue(provider, replace=False)
    if not token_matches(token, provider.feed_token_hash):
        # The stored hash came from another SECRET_KEY: the live URL cannot be rebuilt.
        raise DomainError(
            "feed_token_unrecoverable",
            "The current feed URL cannot be derived (SECRET_KEY changed); rotate it.",
        )
    return token


@dataclass(frozen=True)
class FeedWindow:
    start: datetime
    end: datetime
    cancelled_since: datetime


@dataclass(frozen=True)
class FeedState:
    etag: str  # quoted, as sent in the ETag header
    last_modified: datetime
    window: FeedWindow


def feed_window(now: datetime, horizon_days: int | None) -> FeedWindow:
    """From 30 days back to the provider's longest booking horizon.

    The far end is a UTC midnight, so it moves once a day (and the fingerprint names the
    day) rather than with every request; the near end is counted by the fingerprint itself.
    """
    now = now.astimezone(UTC)
    days = horizon_days if horizon_days is not None else DEFAULT_HORIZON_DAYS
    end = (now + timedelta(days=days + 1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return FeedWindow(start=now - FEED_PAST, end=end, cancelled_since=now - CANCELLED_KEPT)


@lru_cache(maxsize=1)
def _open_sql() -> str:
    provider, service = Provider._meta.db_table, Service._meta.db_table
    appointment, patient = Appointment._meta.db_table, Patient._meta.db_table
    # One statement answers both "whose feed is this" and "has it changed": the provider
    # row, its horizon and capacities, and an aggregate over the appointments the feed
    # can show (the near end of the window; the far end is a day named in the ETag).
    # Only table names are formatted in; every value is a query parameter.
    return f"""
        SELECT p.*,
            (SELECT MAX(s.horizon_days) FROM {service} s
                WHERE s.provider_id = p.id AND s.is_active) AS feed_horizon_days,
            (SELECT SUM(s.capacity) FROM {service} s
                WHERE s.provider_id = p.id) AS feed_capacities,
            v.feed_count, v.feed_changed, v.feed_sequences, v.feed_people
        FROM {provider} p
        LEFT JOIN (
            SELECT a.provider_id, COUNT(*) AS feed_count, MAX(a.updated_at) AS feed_changed,
                SUM(a.sequence) AS feed_sequences, MAX(pt.updated_at) AS feed_people
            FROM {appointment} a JOIN {patient} pt ON pt.id = a.patient_id
            WHERE a.provider_id = (SELECT id FROM {provider} WHERE feed_token_hash = %s)
                AND a.blocked_end >= %s AND a."start" >= %s
                AND (a.status <> %s OR a.updated_at >= %s)
            GROUP BY a.provider_id
        ) v ON v.provider_id = p.id
        WHERE p.feed_token_hash = %s
    """  # noqa: S608


def _as_datetime(value: object) -> datetime | None:
    """An aggregate's timestamp: SQLite hands back text, PostgreSQL a datetime."""
    if value is None or isinstance(value, datetime):
        return value
    parsed = parse_datetime(str(value))
    if parsed is None:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _open(digest: str, now: datetime | None) -> tuple[Provider, FeedState] | None:
    now = now or timezone.now()
    near_end = now - FEED_PAST
    cancelled_since = now - CANCELLED_KEPT
    adapt = connection.ops.adapt_datetimefield_value
    params = [
        digest,
        adapt(near_end),
        adapt(near_end),
        AppointmentStatus.CANCELLED.value,
        adapt(cancelled_since),
        digest,
    ]
    provider = next(iter(Provider.objects.raw(_open_sql(), params)), None)
    if provider is None:
        return None
    # The statement's extra columns arrive as attributes of the raw() model instance.
    horizon, capacities, count, changed_at, sequences, people_at = (
        getattr(provider, f"feed_{name}")
        for name in ("horizon_days", "capacities", "count", "changed", "sequences", "people")
    )
    window = feed_window(now, horizon)
    changed = _as_datetime(changed_at)
    people = _as_datetime(people_at)
    material = "|".join(
        str(part)
        for part in (
            RENDER_VERSION,
            provider.pk,
            provider.feed_token_hash,
            provider.updated_at.isoformat(),
            # What the rendering reads from the provider row, even if saved within one tick.
            provider.name,
            provider.timezone,
            provider.feed_show_full_names,
            capacities,
            window.end.isoformat(),
            count or 0,
            changed and changed.isoformat(),
            sequences,
            people and people.isoformat(),
            settings.PUBLIC_BASE_URL,
            settings.VIDEO_ROOM_BASE_URL,
        )
    )
    etag = '"' + hashlib.sha256(material.encode()).hexdigest()[:40] + '"'
    last_modified = max(stamp for stamp in (provider.updated_at, changed, people) if stamp)
    return provider, FeedState(etag=etag, last_modified=last_modified, window=window)


def open_feed(token: object, now: datetime | None = None) -> tuple[Provider, FeedState] | None:
    """The provider whose feed this token opens and the feed's fingerprint, in one query.

    Booking adds a row (count, max updated_at); moving, cancelling and confirming save the
    row (updated_at) and raise its SEQUENCE (sum), so each changes the fingerprint; a change
    to another provider's appointments touches none of it.
    """
    if not isinstance(token, str) or not token or len(token) > _MAX_TOKEN_LENGTH:
        return None
    opened = _open(hash_token(token), now)
    if opened is None or not token_matches(token, opened[0].feed_token_hash):
        return None
    return opened


def provider_for_feed_token(token: object) -> Provider | None:
    opened = open_feed(token)
    return opened[0] if opened else None


def feed_state(provider: Provider, now: datetime | None = None) -> FeedState:
    """The current fingerprint of a provider's feed (the provider must have a feed token)."""
    opened = _open(provider.feed_token_hash, now)
    if opened is None:
        raise DomainError("no_feed", "This provider has no calendar feed.", status=404)
    return opened[1]


def visible_appointments(provider: Provider, window: FeedWindow) -> QuerySet[Appointment]:
    """What the feed shows; cancelled ones stay (as CANCELLED) for 30 days after the change."""
    return Appointment.objects.filter(
        provider=provider,
        # blocked_end >= start, so this bound lets the (provider, blocked_end) index serve.
        blocked_end__gte=window.start,
        start__gte=window.start,
        start__lt=window.end,
    ).filter(~Q(status=AppointmentStatus.CANCELLED) | Q(updated_at__gte=window.cancelled_since))


def feed_entries(provider: Provider, window: FeedWindow) -> list[ical.FeedEntry]:
    rows = (
        visible_appointments(provider, window)
        .order_by("start", "id")
        .values_list(*ical.FEED_ENTRY_FIELDS)
    )
    make = ical.FeedEntry._make
    return [make(row) for row in rows]


class RenderedFeed(NamedTuple):
    body: bytes
    # (appointment id, patient id), one per patient the feed names: for the access log.
    shown: list[tuple[str, int]]


def render_feed(provider: Provider, state: FeedState) -> RenderedFeed:
    """The feed's bytes: from the cache when its fingerprint is unchanged, else rendered."""
    key = f"bridgeway:feed:{provider.pk}"
    cached = cache.get(key)
    if cached is not None and cached[0] == state.etag:
        try:
            return RenderedFeed(decrypt_bytes(cached[1]), cached[2])
        except UndecryptableValue:
            pass  # written under a key since dropped from FIELD_ENCRYPTION_KEYS: render anew
    entries = feed_entries(provider, state.window)
    body = ical.feed_for(provider, entries)
    by_patient = {e.patient_id: str(e.id) for e in reversed(entries) if e.patient_id is not None}
    shown = [(appointment_id, patient_id) for patient_id, appointment_id in by_patient.items()]
    # One entry per provider: a newer fingerprint replaces the older rendering. The bytes
    # name patients, and whoever reads Redis is not necessarily who reads the database:
    # they are cached encrypted with the field keys (Fernet costs ~1 ms for a large feed).
    cache.set(key, (state.etag, encrypt_bytes(body), shown), CACHE_TIMEOUT)
    return RenderedFeed(body, shown)
