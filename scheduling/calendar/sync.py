"""External calendars: adding a source and syncing its busy times (issue 16).

A sync reads the calendar (scheduling.calendar.fetch: a conditional GET for an iCal URL,
the change token then a time-range REPORT for CalDAV), expands it over the provider's
longest booking horizon plus a margin (scheduling.calendar.busy) and replaces the source's
busy set in one transaction. "Unchanged" (a 304, the same CalDAV token) keeps the stored
set only while it still reaches past the horizon; once the horizon has moved beyond
`busy_until` the whole calendar is read again, so a calendar that never changes still
blocks the newest bookable days. A failure keeps the last busy set: the source turns
stale with the reason and is retried with backoff; a calendar that is gone or refuses us
(404, 410, 401, 403) is disabled and its provider told once by email. Errors and logs
never carry the URL or the password.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from common.errors import DomainError
from common.timezones import get_zone
from notifications import outbound
from notifications.models import Channel
from notifications.recording import enqueue
from scheduling.calendar import busy, fetch
from scheduling.calendar.fetch import SyncFailed
from scheduling.calendar.models import BusyInterval, CalendarSource, SourceKind, SourceStatus
from scheduling.models import Provider, Service

logger = logging.getLogger(__name__)

SYNC_INTERVAL = timedelta(minutes=10)  # the schedule's period (migration 0013)
# How far past the horizon a sync expands: "unchanged" answers keep the set for this long,
# then one full read extends it (about one full read a week per calendar that never changes).
EXPANSION_MARGIN = timedelta(days=7)
_LONGEST_HORIZON = timedelta(days=400)
_DEFAULT_HORIZON = timedelta(days=60)
_MAX_BACKOFF = timedelta(hours=6)

__all__ = ["SyncFailed", "add_source", "sync_source", "sync_due_sources"]


def _invalid(field: str, detail: str) -> DomainError:
    return DomainError("invalid", detail, fields={field: [detail]})


def check_source_url(url: str) -> str:
    """The URL to fetch: trimmed, webcal:// read as the HTTPS it is (how iCloud and Outlook
    publish); refused when malformed or pointing at a private, loopback or metadata address."""
    url = url.strip()
    if url.lower().startswith("webcal://"):
        url = "https://" + url[len("webcal://") :]
    try:
        outbound.check_url(url, allow_private=settings.CALENDAR_ALLOW_PRIVATE_HOSTS)
    except outbound.OutboundRefused as exc:
        raise _invalid("url", exc.message) from exc
    return url


@transaction.atomic
def add_source(
    *,
    provider: Provider,
    kind: str,
    url: str,
    name: str = "",
    username: str = "",
    password: str = "",
) -> CalendarSource:
    """Store a checked calendar source; its first sync is queued after commit, once."""
    if kind not in SourceKind.values:
        raise _invalid("kind", f"Choose one of: {', '.join(SourceKind.values)}.")
    if kind == SourceKind.CALDAV and not username:
        raise _invalid("username", "A CalDAV calendar needs a user name.")
    source = CalendarSource.objects.create(
        provider=provider,
        kind=kind,
        url=check_source_url(url),
        name=name,
        username=username,
        password=password,
        # The queued sync below is the first one: the sweep leaves the source alone until
        # then (and catches it if that task was lost).
        next_attempt_at=timezone.now() + SYNC_INTERVAL,
    )
    transaction.on_commit(lambda: enqueue_sync(source.pk))
    return source


def enqueue_sync(source_id: int) -> None:
    from django_q.tasks import async_task

    async_task("scheduling.tasks.sync_calendar_source", source_id)


def horizon_for(provider: Provider) -> timedelta:
    """How far ahead busy times matter: the provider's longest notice plus horizon."""
    longest = max(
        (
            timedelta(hours=notice) + timedelta(days=days)
            for notice, days in Service.objects.filter(
                provider=provider, is_active=True
            ).values_list("min_notice_hours", "horizon_days")
        ),
        default=_DEFAULT_HORIZON,
    )
    return min(longest, _LONGEST_HORIZON)


def _record_failure(source: CalendarSource, failure: SyncFailed, now: datetime) -> None:
    reason = failure.reason[:300]
    if failure.disable:
        # Conditional, so two syncs racing to disable it tell the provider once.
        disabled = (
            CalendarSource.objects.filter(pk=source.pk)
            .exclude(status=SourceStatus.DISABLED)
            .update(
                status=SourceStatus.DISABLED,
                failure_count=source.failure_count + 1,
                last_attempt_at=now,
                last_error=reason,
            )
        )
        if disabled:
            _tell_provider_disabled(source, reason, now)
        source.refresh_from_db()
    else:
        source.failure_count += 1
        source.status = SourceStatus.STALE
        source.last_attempt_at = now
        source.last_error = reason
        backoff = SYNC_INTERVAL * 2 ** min(source.failure_count - 1, 10)
        source.next_attempt_at = now + min(backoff, _MAX_BACKOFF)
        source.save(
            update_fields=[
                "failure_count",
                "last_attempt_at",
                "last_error",
                "status",
                "next_attempt_at",
            ]
        )
    logger.warning("calendar source %s sync failed (%s): %s", source.pk, source.status, reason)


def _tell_provider_disabled(source: CalendarSource, reason: str, now: datetime) -> None:
    """One discreet email: which calendar (its label and host), why, where to fix it."""
    provider = source.provider
    recipient = provider.email or (provider.user.email if provider.user else "")
    if not recipient:
        return
    host = outbound.parse_url(source.url, allow_private=True).host
    label = f"your calendar {source.name!r} ({host})" if source.name else f"the calendar at {host}"
    enqueue(
        channel=Channel.EMAIL,
        recipient=recipient,
        template="calendar_source_disabled",
        subject="A calendar you connected stopped syncing",
        body=(
            f"Hello {provider.name},\n\n"
            f"Bridgeway stopped reading {label}: {reason}\n"
            "Its last busy times still block your schedule, but changes you make there no "
            "longer reach Bridgeway. Remove it and add it again with a working address or "
            "app password:\n"
            f"{settings.PUBLIC_BASE_URL}/portal/calendar/\n"
        ),
        dedupe_key=f"calendar-disabled:{source.pk}:{now.isoformat()}",
    )


def _replace_busy(
    source: CalendarSource, intervals: list[busy.Interval], fetched: fetch.Fetched, until: datetime
) -> None:
    BusyInterval.objects.filter(source=source).delete()
    BusyInterval.objects.bulk_create(
        [
            BusyInterval(source=source, provider_id=source.provider_id, start=start, end=end)
            for start, end in intervals
        ],
        batch_size=1000,
    )
    source.busy_count = len(intervals)
    source.busy_until = until
    source.etag = fetched.version
    source.last_modified = fetched.last_modified


def sync_source(*, source_id: int, now: datetime | None = None) -> CalendarSource:
    """Read, expand and store one source's busy times; a failure marks it stale or disabled."""
    now = now or timezone.now()
    source = CalendarSource.objects.select_related("provider__user").get(pk=source_id)
    if source.status == SourceStatus.DISABLED:
        return source
    provider = source.provider
    horizon_end = now + horizon_for(provider)
    until = horizon_end + EXPANSION_MARGIN
    conditional = source.busy_until is not None and source.busy_until >= horizon_end
    try:
        fetched = fetch.fetch(source, start=now, end=until, conditional=conditional)
        intervals = None
        if fetched.calendar is not None:
            intervals = busy.busy_intervals(
                fetched.calendar,
                zone=get_zone(provider.timezone),
                start=now,
                end=until,
                email=provider.email,
            )
    except busy.CalendarUnreadable as exc:
        _record_failure(source, SyncFailed(str(exc)), now)
        return source
    except SyncFailed as failure:
        _record_failure(source, failure, now)
        return source
    with transaction.atomic():
        source = CalendarSource.objects.select_for_update().get(pk=source_id)
        if source.status == SourceStatus.DISABLED:
            return source
        if intervals is not None:  # "unchanged": the stored set stands
            _replace_busy(source, intervals, fetched, until)
        source.status = SourceStatus.OK
        source.last_error = ""
        source.failure_count = 0
        source.last_synced_at = source.last_attempt_at = now
        source.next_attempt_at = now + SYNC_INTERVAL
        source.save()
    return source


def due_sources(now: datetime) -> list[int]:
    """Ids of the sources whose next sync is due (indexed by next_attempt_at)."""
    return list(
        CalendarSource.objects.filter(next_attempt_at__lte=now)
        .exclude(status=SourceStatus.DISABLED)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)
    )


def sync_due_sources(*, now: datetime | None = None) -> int:
    """Queue a sync for every due source; returns how many were queued."""
    now = now or timezone.now()
    ids = due_sources(now)
    # Pushed forward now, so the next sweep does not queue them again while they wait.
    CalendarSource.objects.filter(pk__in=ids).update(next_attempt_at=now + SYNC_INTERVAL)
    for source_id in ids:
        enqueue_sync(source_id)
    return len(ids)
