from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse

from common.api import error_body

logger = logging.getLogger(__name__)


def healthz(request: HttpRequest) -> JsonResponse:
    """Whether this web process can serve: the database and the cache (Redis, which also
    holds the rate limits and the task queue) both answer. 200, or 503 naming what failed,
    for load balancers and compose health checks."""
    checks = {"database": _database_answers(), "cache": _cache_answers()}
    healthy = all(checks.values())
    body = {"status": "ok" if healthy else "unavailable"}
    body.update({name: "ok" if ok else "unreachable" for name, ok in checks.items()})
    return JsonResponse(body, status=200 if healthy else 503)


def _database_answers() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except Exception:  # any failure means "not reachable", and is reported as such
        logger.warning("healthz: the database did not answer", exc_info=True)
        return False


def _cache_answers() -> bool:
    try:
        cache.get("healthz")  # one round trip; a miss is an answer too
        return True
    except Exception:  # any failure means "not reachable", and is reported as such
        logger.warning("healthz: the cache did not answer", exc_info=True)
        return False


def only_when(setting: str) -> Callable[[Callable[..., Any]], Callable[..., HttpResponse]]:
    """Serve the view while settings.<setting> is true; else 404 as if it did not exist."""

    def wrap(view: Callable[..., Any]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not getattr(settings, setting, False):
                return JsonResponse(error_body("not_found", "Not found."), status=404)
            return view(request, *args, **kwargs)

        return guarded

    return wrap
