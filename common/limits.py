"""Rate limits that hold under concurrency: a fixed-window counter per key, counted with the
cache's atomic `add` and `incr` (Redis INCR when REDIS_URL is set, so every web process
shares one count). A read-modify-write counter admits a burst many times over its limit."""

from __future__ import annotations

import functools
import hashlib
import math
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle

from common.errors import DomainError

_PERIODS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hour": 3600, "d": 86400, "day": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """'30/min' -> (30, 60); '5/10min' -> (5, 600)."""
    count, _, period = rate.partition("/")
    digits = "".join(c for c in period if c.isdigit())
    unit = period[len(digits) :]
    if not count.isdigit() or unit not in _PERIODS:
        raise ValueError(f"not a rate: {rate!r} (use e.g. '30/min' or '5/10min')")
    return int(count), int(digits or 1) * _PERIODS[unit]


def hit(scope: str, ident: str, rate: str, *, now: float | None = None) -> float | None:
    """Count one request of `ident` in `scope`; seconds to wait when over the rate, else None."""
    limit, window = parse_rate(rate)
    now = time.time() if now is None else now
    bucket = int(now // window)
    # Hash the identity: a phone number or an address never appears in a cache key.
    digest = hashlib.sha256(ident.encode()).hexdigest()[:32]
    key = f"limit:{scope}:{digest}:{bucket}"
    incr_window = getattr(cache, "incr_window", None)  # common.cache: one round trip
    if incr_window is not None:
        count = incr_window(key, window + 1)
    else:
        cache.add(key, 0, timeout=window + 1)
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.add(key, 1, timeout=window + 1)
            count = 1
    if count <= limit:
        return None
    return max(1.0, math.ceil((bucket + 1) * window - now))


def enforce(scope: str, ident: str, rate: str | None) -> None:
    """Raise 429 rate_limited (with Retry-After) when `ident` is over `rate` in `scope`."""
    if not rate:
        return
    wait = hit(scope, ident, rate)
    if wait is not None:
        raise DomainError(
            "rate_limited",
            "Too many requests. Please wait a moment and try again.",
            status=429,
            headers={"Retry-After": str(int(wait))},
        )


def client_address(request: Any) -> str:
    """The caller's address. X-Forwarded-For is trusted only when settings declare the
    proxies (REST_FRAMEWORK NUM_PROXIES), else any client could pick its own address."""
    if api_settings.NUM_PROXIES:
        return str(BaseThrottle().get_ident(request))
    return str(request.META.get("REMOTE_ADDR") or "")


def posted_email(request: Any) -> str | None:
    """The account a password-reset form names, as Django matches it (any case)."""
    email = request.POST.get("email", "").strip().lower()
    return email or None


def limit_posts(
    scope: str, setting: str, *, identify: Callable[[Any], str | None] = client_address
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Wrap a form view so each address (or what `identify` names) may POST at most
    settings.<setting> times (429 page)."""

    def wrap(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def limited(request: Any, *args: Any, **kwargs: Any) -> Any:
            rate = getattr(settings, setting, None)
            ident = identify(request) if request.method == "POST" and rate else None
            if ident is not None and rate:
                wait = hit(scope, ident, rate)
                if wait is not None:
                    response = HttpResponse(
                        "Too many attempts. Please wait a few minutes and try again.",
                        status=429,
                        content_type="text/plain; charset=utf-8",
                    )
                    response["Retry-After"] = str(int(wait))
                    return response
            return view(request, *args, **kwargs)

        return limited

    return wrap
