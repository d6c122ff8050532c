from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse

from common.api import error_body


def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness and database reachability, for load balancers and compose health checks."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


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
