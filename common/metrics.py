"""Prometheus metrics (prometheus-client): what an operator watches, at `/metrics/`.

Counted in the process that sees the event: requests and their latency by route (the URL
pattern, never the path, so no token is a label), booking outcomes by code, messages by
outcome. Read from the database at scrape time (notifications.metrics), so they are right
whichever machine the workers run on: the outbox's due messages and the age of the oldest,
the failed tasks django-q2 kept, and how long ago a worker last swept.

Several gunicorn workers share one count when PROMETHEUS_MULTIPROC_DIR names a directory
all of a machine's processes can write (prometheus-client's multiprocess mode; gunicorn's
child_exit hook in config/gunicorn.py marks dead workers). Without it each process counts
alone, which is right for `runserver` and the tests.
"""

from __future__ import annotations

import hmac
import os
import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.registry import Collector

from common.api import error_body

REQUESTS = Counter(
    "bridgeway_http_requests_total",
    "Requests answered, by method, route pattern and status code.",
    ["method", "route", "status"],
)
LATENCY = Histogram(
    "bridgeway_http_request_duration_seconds",
    "Time to answer a request, by method and route pattern.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
BOOKINGS = Counter(
    "bridgeway_booking_outcomes_total",
    "Booking requests by outcome: booked, or the error code of the refusal.",
    ["outcome"],
)
MESSAGES = Counter(
    "bridgeway_message_outcomes_total",
    "Send attempts by channel and the status they left the message in.",
    ["channel", "outcome"],
)


def count_booking(outcome: str) -> None:
    BOOKINGS.labels(outcome=outcome[:40]).inc()


def count_message(channel: str, outcome: str) -> None:
    MESSAGES.labels(channel=channel, outcome=outcome).inc()


def _route(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    if match is None:
        return "unmatched"
    return "/" + (match.route or match.view_name or "unnamed")


class MetricsMiddleware:
    """Outermost: times every request, the other middleware included."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        route = _route(request)
        LATENCY.labels(request.method, route).observe(time.perf_counter() - started)
        REQUESTS.labels(request.method, route, str(response.status_code)).inc()
        return response


# Collectors that read their figures when Prometheus scrapes (notifications registers the
# outbox's from its AppConfig.ready; common knows no app).
_scrape_collectors: list[Collector] = []


def register_scrape_collector(collector: Collector) -> None:
    _scrape_collectors.append(collector)
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        REGISTRY.register(collector)


def exposition() -> bytes:
    """The text format of every metric, summed over this machine's processes when
    multiprocess mode is on."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        for collector in _scrape_collectors:
            registry.register(collector)
        return generate_latest(registry)
    return generate_latest(REGISTRY)


def metrics_view(request: HttpRequest) -> HttpResponse:
    """`/metrics/`: 404 unless METRICS_TOKEN is set, then only with `Authorization: Bearer
    <METRICS_TOKEN>` (the figures say how busy a clinic is; not for anyone to read)."""
    expected = settings.METRICS_TOKEN
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        return JsonResponse(error_body("not_found", "Not found."), status=404)
    response = HttpResponse(exposition(), content_type=CONTENT_TYPE_LATEST)
    response["Cache-Control"] = "no-store"
    return response
