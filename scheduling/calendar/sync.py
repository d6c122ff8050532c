"""External calendars: adding a source and syncing its busy times (issue 16).

A sync fetches the calendar (a conditional GET for an iCal URL), expands it over the
provider's longest booking horizon (scheduling.calendar.busy) and replaces the source's
busy set in one transaction. A failure keeps the last busy set: the source turns stale
with the reason and is retried with backoff; a calendar that is gone or refuses us
(404, 410, 401, 403) is disabled. Errors never carry the URL or the password.
"""

from __future__ import annotations

import http.client
import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from common.errors import DomainError
from common.timezones import get_zone
from notifications import outbound
from scheduling.calendar import busy
from scheduling.calendar.models import BusyInterval, CalendarSource, SourceKind, SourceStatus
from scheduling.models import Provider, Service

logger = logging.getLogger(__name__)

DISABLING_STATUSES = frozenset({401, 403, 404, 410})
SYNC_INTERVAL = timedelta(minutes=10)  # the schedule's period (migration 0013)
# One fetch may not stall a worker: a 20 MB calendar or a 60 s answer is refused.
FETCH_TIMEOUT_SECONDS = 30
MAX_BYTES = 20 * 1024 * 1024
_LONGEST_HORIZON = timedelta(days=400)
_DEFAULT_HORIZON = timedelta(days=60)
_MAX_BACKOFF = timedelta(hours=6)


class SyncFailed(Exception):
    """One sync could not read the calendar; `disable` when retrying cannot help."""

    def __init__(self, reason: str, *, disable: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.disable = disable


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
    """Store a checked calendar source; its first sync is queued after commit."""
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


def _fetch_ical(source: CalendarSource) -> outbound.Response:
    headers = {"Accept": "text/calendar", "User-Agent": "Bridgeway calendar sync"}
    if source.etag:
        headers["If-None-Match"] = source.etag
    if source.last_modified:
        headers["If-Modified-Since"] = source.last_modified
    try:
        response = outbound.get(
            source.url,
            headers=headers,
            timeout=FETCH_TIMEOUT_SECONDS,
            max_bytes=MAX_BYTES,
            allow_private=settings.CALENDAR_ALLOW_PRIVATE_HOSTS,
        )
    except outbound.OutboundRefused as exc:
        raise SyncFailed(exc.message) from exc
    except outbound.ResponseTooLarge as exc:
        raise SyncFailed("The calendar is larger than the size allowed.") from exc
    except TimeoutError as exc:
        raise SyncFailed("The calendar server did not answer in time.") from exc
    except (OSError, http.client.HTTPException) as exc:
        raise SyncFailed(
            f"The calendar server could not be reached ({type(exc).__name__})."
        ) from exc
    if response.status in DISABLING_STATUSES:
        raise SyncFailed(
            f"The calendar server answered {response.status}: the address is gone or refused.",
            disable=True,
        )
    if response.status not in (200, 304):
        raise SyncFailed(f"The calendar server answered {response.status}.")
    return response


def _record_failure(source: CalendarSource, failure: SyncFailed, now: datetime) -> None:
    source.failure_count += 1
    source.last_attempt_at = now
    source.last_error = failure.reason[:300]
    if failure.disable:
        source.status = SourceStatus.DISABLED
    else:
        source.status = SourceStatus.STALE
        base = SYNC_INTERVAL
        source.next_attempt_at = now + min(base * 2 ** (source.failure_count - 1), _MAX_BACKOFF)
    source.save(
        update_fields=[
            "failure_count",
            "last_attempt_at",
            "last_error",
            "status",
            "next_attempt_at",
        ]
    )
    logger.warning(
        "calendar source %s sync failed (%s): %s", source.pk, source.status, source.last_error
    )


def _replace_busy(
    source: CalendarSource, intervals: list[busy.Interval], response: outbound.Response
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
    source.etag = response.headers.get("etag", "")[:300]
    source.last_modified = response.headers.get("last-modified", "")[:100]


def sync_source(*, source_id: int, now: datetime | None = None) -> CalendarSource:
    """Fetch, expand and store one source's busy times; a failure marks it stale or disabled."""
    now = now or timezone.now()
    source = CalendarSource.objects.select_related("provider").get(pk=source_id)
    if source.status == SourceStatus.DISABLED:
        return source
    provider = source.provider
    try:
        if source.kind != SourceKind.ICAL_URL:
            raise SyncFailed("CalDAV calendars are not synced yet.")
        response = _fetch_ical(source)
        intervals = None
        if response.status == 200:
            try:
                intervals = busy.busy_intervals(
                    response.body,
                    zone=get_zone(provider.timezone),
                    start=now,
                    end=now + horizon_for(provider),
                    email=provider.email,
                )
            except busy.CalendarUnreadable as exc:
                raise SyncFailed(str(exc)) from exc
    except SyncFailed as failure:
        _record_failure(source, failure, now)
        return source
    with transaction.atomic():
        source = CalendarSource.objects.select_for_update().get(pk=source_id)
        if source.status == SourceStatus.DISABLED:
            return source
        if intervals is not None:  # 304: the stored set stands
            _replace_busy(source, intervals, response)
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
