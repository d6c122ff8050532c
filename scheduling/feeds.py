"""A provider's private calendar feed: its token, what it shows, and its fingerprint.

The feed URL carries a token derived (common.tokens) from the provider id and a salt; the
database keeps only its SHA-256. Rotating the salt changes the token and the stored hash
together, so the old URL stops matching on the very next request.

A feed is rendered from one query and cached under a fingerprint of what it shows (taken
with one aggregate query), which is also its ETag: an unchanged feed is answered from the
cache or with 304 without rendering anything.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Count, Max, OuterRef, Q, QuerySet, Subquery, Sum
from django.utils import timezone

from common.errors import DomainError
from common.tokens import derive_token, hash_token, new_salt, token_matches
from scheduling import ical
from scheduling.models import Appointment, AppointmentStatus, Provider, Service

FEED_PURPOSE = "calendar-feed"
FEED_PAST = timedelta(days=30)
CANCELLED_KEPT = timedelta(days=30)
DEFAULT_HORIZON_DAYS = 60
# Bump when the rendering changes, so cached feeds and ETags from before are not reused.
RENDER_VERSION = "1"
CACHE_TIMEOUT = 24 * 3600
_MAX_TOKEN_LENGTH = 64


def feed_url(token: str) -> str:
    return f"{settings.PUBLIC_BASE_URL}/calendar/{token}.ics"


def _derive(provider: Provider) -> str:
    return derive_token(FEED_PURPOSE, provider.pk, provider.feed_token_salt)


@transaction.atomic
def rotate_feed_token(*, provider: Provider) -> str:
    """Give the provider a new feed token; the previous one stops working at once."""
    locked = Provider.objects.select_for_update().get(pk=provider.pk)
    locked.feed_token_salt = new_salt()
    token = _derive(locked)
    locked.feed_token_hash = hash_token(token)
    locked.save(update_fields=["feed_token_salt", "feed_token_hash", "updated_at"])
    provider.feed_token_salt = locked.feed_token_salt
    provider.feed_token_hash = locked.feed_token_hash
    provider.updated_at = locked.updated_at
    return token


def feed_token(*, provider: Provider) -> str:
    """The provider's current feed token, issuing the first one when there is none."""
    if not provider.feed_token_salt or not provider.feed_token_hash:
        return rotate_feed_token(provider=provider)
    token = _derive(provider)
    if not token_matches(token, provider.feed_token_hash):
        # The stored hash came from another SECRET_KEY: the live URL cannot be rebuilt.
        raise DomainError(
            "feed_token_unrecoverable",
            "The current feed URL cannot be derived (SECRET_KEY changed); rotate it.",
        )
    return token


def provider_for_feed_token(token: object) -> Provider | None:
    """The provider whose feed this token opens, with its feed horizon; else None."""
    if not isinstance(token, str) or not token or len(token) > _MAX_TOKEN_LENGTH:
        return None
    digest = hash_token(token)
    services = Service.objects.filter(provider=OuterRef("pk")).order_by().values("provider")
    provider = (
        Provider.objects.filter(feed_token_hash=digest)
        .annotate(
            feed_horizon_days=Subquery(
                services.filter(is_active=True)
                .annotate(longest=Max("horizon_days"))
                .values("longest")
            ),
            # Group summaries show capacities: part of the fingerprint, read here cheaply.
            feed_capacities=Subquery(services.annotate(seats=Sum("capacity")).values("seats")),
        )
        .first()
    )
    if provider is None or not token_matches(token, provider.feed_token_hash):
        return None
    return provider


@dataclass(frozen=True)
class FeedWindow:
    start: datetime
    end: datetime
    cancelled_since: datetime


def feed_window(provider: Provider, now: datetime | None = None) -> FeedWindow:
    """From 30 days back to the provider's longest booking horizon."""
    now = now or timezone.now()
    horizon = getattr(provider, "feed_horizon_days", None)
    if horizon is None:
        horizon = (
            provider.services.filter(is_active=True).aggregate(h=Max("horizon_days"))["h"]
            or DEFAULT_HORIZON_DAYS
        )
    return FeedWindow(
        start=now - FEED_PAST,
        end=now + timedelta(days=horizon),
        cancelled_since=now - CANCELLED_KEPT,
    )


def visible_appointments(provider: Provider, window: FeedWindow) -> QuerySet[Appointment]:
    """What the feed shows; cancelled ones stay (as CANCELLED) for 30 days after the change."""
    return Appointment.objects.filter(
        provider=provider,
        # blocked_end >= start, so this bound lets the (provider, blocked_end) index serve.
        blocked_end__gte=window.start,
        start__gte=window.start,
        start__lt=window.end,
    ).filter(~Q(status=AppointmentStatus.CANCELLED) | Q(updated_at__gte=window.cancelled_since))


@dataclass(frozen=True)
class FeedState:
    etag: str  # quoted, as sent in the ETag header
    last_modified: datetime
    window: FeedWindow


def feed_state(provider: Provider, now: datetime | None = None) -> FeedState:
    """Fingerprint of what the feed shows, in one aggregate query.

    Booking adds a row (count, max updated_at); moving, cancelling and confirming save the
    row (updated_at) and raise its SEQUENCE (sum), so each changes the fingerprint; a
    change to another provider's appointments touches none of it.
    """
    window = feed_window(provider, now)
    agg = visible_appointments(provider, window).aggregate(
        n=Count("id"),
        changed=Max("updated_at"),
        sequences=Sum("sequence"),
        people=Max("patient__updated_at"),
    )
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
            agg["n"],
            agg["changed"] and agg["changed"].isoformat(),
            agg["sequences"],
            agg["people"] and agg["people"].isoformat(),
            getattr(provider, "feed_capacities", None),
            settings.PUBLIC_BASE_URL,
            settings.VIDEO_ROOM_BASE_URL,
        )
    )
    etag = '"' + hashlib.sha256(material.encode()).hexdigest()[:40] + '"'
    last_modified = max(
        stamp for stamp in (provider.updated_at, agg["changed"], agg["people"]) if stamp
    )
    return FeedState(etag=etag, last_modified=last_modified, window=window)


def feed_entries(provider: Provider, window: FeedWindow) -> list[ical.FeedEntry]:
    rows = (
        visible_appointments(provider, window)
        .order_by("start", "id")
        .values_list(*ical.FEED_ENTRY_FIELDS)
    )
    make = ical.FeedEntry._make
    return [make(row) for row in rows]


def render_feed(provider: Provider, state: FeedState) -> bytes:
    """The feed's bytes: from the cache when its fingerprint is unchanged, else rendered."""
    key = f"bridgeway:feed:{provider.pk}"
    cached = cache.get(key)
    if cached is not None and cached[0] == state.etag:
        return cached[1]
    body = ical.feed_for(provider, feed_entries(provider, state.window))
    # One entry per provider: a newer fingerprint replaces the older rendering.
    cache.set(key, (state.etag, body), CACHE_TIMEOUT)
    return body
