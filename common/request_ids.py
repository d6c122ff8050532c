"""A request id for every request: taken from the proxy's `X-Request-ID` when it is a
plain token, else made here; echoed in the response and added to every log record the
request's thread writes (LOG_FORMAT=json prints it as `request_id`)."""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar

from django.core.signals import request_finished
from django.http import HttpRequest, HttpResponse

_current: ContextVar[str] = ContextVar("request_id", default="")
_ACCEPTED = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def current_request_id() -> str:
    return _current.get()


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        given = request.headers.get("X-Request-ID", "")
        request_id = given if _ACCEPTED.match(given) else uuid.uuid4().hex
        # Not reset on the way out: Django logs a 4xx/5xx ("Not Found: ...") after the
        # middleware returns. request_finished clears it once the response is sent.
        _current.set(request_id)
        response = self.get_response(request)
        response["X-Request-ID"] = request_id
        return response


def _clear(**kwargs: object) -> None:
    _current.set("")


request_finished.connect(_clear, dispatch_uid="common.request_ids.clear")


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to each record ('' outside a request: tasks, commands)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _current.get()
        return True
