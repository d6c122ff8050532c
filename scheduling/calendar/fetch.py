"""Reading an external calendar: an iCal URL by conditional GET, a CalDAV calendar by its
change token then a time-range REPORT (the `caldav` library). No ORM writes here.

Both go through notifications' SSRF-safe transports (outbound.get for a URL, the guarded
requests session for CalDAV): every address is checked after DNS resolution, redirects
included, each answer is bounded to MAX_BYTES and the whole read to FETCH_TIMEOUT_SECONDS.
A failure is a SyncFailed whose reason names neither the URL nor the password; `disable`
when the calendar is gone or refuses us (401, 403, 404, 410) and retrying cannot help.
"""

from __future__ import annotations

import http.client
from dataclasses import dataclass
from datetime import datetime, timedelta

import caldav
import icalendar
import requests
from caldav.elements import dav
from caldav.elements.base import BaseElement
from caldav.lib import error as caldav_error
from django.conf import settings
from lxml import etree

from notifications import outbound, outbound_session
from scheduling.calendar import busy
from scheduling.calendar.models import CalendarSource, SourceKind

DISABLING_STATUSES = frozenset({401, 403, 404, 410})
# One read may not stall a worker: a 20 MB calendar or a 60 s answer is refused.
FETCH_TIMEOUT_SECONDS = 30
MAX_BYTES = 20 * 1024 * 1024
# A CalDAV server may judge floating and all-day times in UTC: ask a day wider each side,
# the expansion clips to the provider's own wall clock.
_REPORT_MARGIN = timedelta(days=1)


class SyncFailed(Exception):
    """One sync could not read the calendar; `disable` when retrying cannot help."""

    def __init__(self, reason: str, *, disable: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.disable = disable


@dataclass(frozen=True)
class Fetched:
    """What a read found: the calendar, or None when the server says nothing changed;
    `version` is the ETag (iCal URL) or the sync-token/ctag (CalDAV) to send next time."""

    calendar: bytes | icalendar.Calendar | None
    version: str = ""
    last_modified: str = ""


def _status_failure(status: int) -> SyncFailed:
    if status in DISABLING_STATUSES:
        return SyncFailed(
            f"The calendar server answered {status}: the address is gone or refused.",
            disable=True,
        )
    return SyncFailed(f"The calendar server answered {status}.")


def fetch(source: CalendarSource, *, start: datetime, end: datetime, conditional: bool) -> Fetched:
    """Read the source; `conditional` lets an unchanged calendar answer "unchanged"."""
    if source.kind == SourceKind.CALDAV:
        return _fetch_caldav(source, start=start, end=end, conditional=conditional)
    return _fetch_ical(source, conditional=conditional)


def _fetch_ical(source: CalendarSource, *, conditional: bool) -> Fetched:
    headers = {"Accept": "text/calendar", "User-Agent": "Bridgeway calendar sync"}
    if conditional and source.etag:
        headers["If-None-Match"] = source.etag
    if conditional and source.last_modified:
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
    if response.status not in (200, 304):
        raise _status_failure(response.status)
    return Fetched(
        calendar=response.body if response.status == 200 else None,
        version=response.headers.get("etag", "")[:300],
        last_modified=response.headers.get("last-modified", "")[:100],
    )


class _GetCTag(BaseElement):
    """Apple's calendar change tag, for servers without a DAV:sync-token."""

    tag = "{http://calendarserver.org/ns/}getctag"


def _change_token(calendar: caldav.Calendar) -> str:
    found = calendar.get_properties([dav.SyncToken(), _GetCTag()])
    token = found.get(dav.SyncToken.tag) or found.get(_GetCTag.tag) or ""
    return str(token)[:300]


def _fetch_caldav(
    source: CalendarSource, *, start: datetime, end: datetime, conditional: bool
) -> Fetched:
    with outbound_session.guarded_session(
        allow_private=settings.CALENDAR_ALLOW_PRIVATE_HOSTS,
        timeout=FETCH_TIMEOUT_SECONDS,
        max_bytes=MAX_BYTES,
    ) as (session, guard):
        client = caldav.DAVClient(
            url=source.url,
            username=source.username,
            password=source.password,
            timeout=FETCH_TIMEOUT_SECONDS,
        )
        client.session.close()
        client.session = session
        calendar = client.calendar(url=source.url)
        try:
            version = _change_token(calendar)
            if conditional and version and version == source.etag:
                return Fetched(calendar=None, version=version)
            found = calendar.search(
                event=True, start=start - _REPORT_MARGIN, end=end + _REPORT_MARGIN
            )
            bodies = [item.data for item in found]
        except _CALDAV_ERRORS as exc:
            raise _caldav_failure(exc, guard) from exc
        # caldav drops an event it could not load, with only a log line: a cut-short
        # exchange must not become a calendar that lost some of its busy times.
        if guard.failed:
            raise _caldav_failure(None, guard)
    return Fetched(calendar=busy.joined(bodies), version=version)


_CALDAV_ERRORS = (
    caldav_error.DAVError,
    requests.RequestException,
    OSError,  # TimeoutError too
    etree.LxmlError,
    outbound.OutboundRefused,
    outbound.ResponseTooLarge,
    busy.CalendarUnreadable,
    ValueError,
    KeyError,
    TypeError,
    AttributeError,
)


def _caldav_failure(exc: Exception | None, guard: outbound_session.Guard) -> SyncFailed:
    """A reason for what went wrong, from what the guarded session saw."""
    if guard.refused is not None:
        return SyncFailed(guard.refused.message)
    if guard.too_large:
        return SyncFailed("The calendar is larger than the size allowed.")
    if guard.expired:
        return SyncFailed("The calendar server did not answer in time.")
    last = guard.statuses[-1] if guard.statuses else 0
    if last >= 400:
        return _status_failure(last)
    if isinstance(exc, requests.RequestException | OSError):
        return SyncFailed(f"The calendar server could not be reached ({type(exc).__name__}).")
    return SyncFailed("The calendar server's answer does not parse as CalDAV.")
