"""A read replica for the directory, slot and feed reads (DATABASE_REPLICA_URL).

Only GET and HEAD requests of the views in REPLICA_VIEWS read from the `replica` alias;
everything else, and every write, uses the primary. Read-your-writes for the person who
just changed something:

- a request that writes (any router.db_for_write: the ORM and common.sql alike) reads
  from the primary for the rest of that request;
- its answer sets the PRIMARY_COOKIE for settings.REPLICA_PIN_SECONDS (default 10), and a
  request carrying it reads from the primary: the booker's next slot or feed request sees
  the visit they booked however far the replica lags;
- any read inside a transaction on the primary stays on the primary (a SELECT ... FOR
  UPDATE, or a read of what the transaction wrote).

Without a `replica` alias the router answers nothing and Django behaves as before.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.http import HttpRequest, HttpResponse

REPLICA = "replica"
PRIMARY_COOKIE = "bw_primary"
# Anonymous reads a replica a few seconds behind answers as well: the directory search,
# a provider, its slots (API, FHIR, pages) and the calendar feeds.
REPLICA_VIEWS = frozenset(
    {
        "provider-list",
        "provider-detail",
        "provider-slots",
        "provider-feed",
        "find-help",
        "provider",
    }
)


# Rows a request writes but nobody reads back at once: the access log of a feed read does
# not pin the calendar app to the primary.
_NOT_READ_BACK = frozenset({"scheduling.AuditEvent"})


@dataclass
class _Request:
    replica: bool = False  # this request's view may read from the replica
    wrote: bool = False


_current: ContextVar[_Request | None] = ContextVar("replica_request", default=None)


def has_replica() -> bool:
    return REPLICA in connections.settings  # settings.DATABASES, as the connections read it


class ReplicaRouter:
    """DATABASE_ROUTERS entry: reads of REPLICA_VIEWS from the replica, all else primary."""

    def db_for_read(self, model: type[Any], **hints: Any) -> str | None:
        if not has_replica():
            return None
        state = _current.get()
        if (
            state is None
            or not state.replica
            or state.wrote
            or connections[DEFAULT_DB_ALIAS].in_atomic_block
        ):
            return DEFAULT_DB_ALIAS
        return REPLICA

    def db_for_write(self, model: type[Any], **hints: Any) -> str | None:
        state = _current.get()
        if state is not None and model._meta.label not in _NOT_READ_BACK:
            state.wrote = True
        # Explicit: an instance read from the replica is still saved to the primary.
        return DEFAULT_DB_ALIAS if has_replica() else None

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool | None:
        return True if has_replica() else None  # the same data, wherever it was read


class ReplicaMiddleware:
    """Marks which requests may read from the replica, and pins a writer to the primary."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not has_replica():
            return self.get_response(request)
        state = _Request()
        token = _current.set(state)
        try:
            response = self.get_response(request)
        finally:
            _current.reset(token)
        if state.wrote:
            response.set_cookie(
                PRIMARY_COOKIE,
                "1",
                max_age=getattr(settings, "REPLICA_PIN_SECONDS", 10),
                httponly=True,
                samesite="Lax",
                secure=request.is_secure(),
            )
        return response

    def process_view(self, request: HttpRequest, *args: Any, **kwargs: Any) -> None:
        state = _current.get()
        match = request.resolver_match
        if (
            state is not None
            and request.method in ("GET", "HEAD")
            and match is not None
            and match.url_name in REPLICA_VIEWS
            and PRIMARY_COOKIE not in request.COOKIES
        ):
            state.replica = True
