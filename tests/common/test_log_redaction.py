"""No link token reaches a log line: a booking journey's whole log holds none."""

from __future__ import annotations

import io
import logging
import sys
from collections.abc import Iterator
from datetime import timedelta
from types import SimpleNamespace

import pytest
import time_machine
from gunicorn.config import Config
from rest_framework.test import APIClient

import config.gunicorn as gunicorn_settings
from common.access_log import RedactingLogger
from common.redaction import RedactSecretsFilter, redact_secrets
from scheduling.calendar.feeds import feed_token
from tests.scheduling.booking_helpers import NOW, WED_10, book, make_service, token_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def log() -> Iterator[io.StringIO]:
    """What the configured console handler writes, as it would reach the terminal."""
    handler = next(h for h in logging.getLogger().handlers if h.name == "console")
    buffer = io.StringIO()
    previous = handler.setStream(buffer)
    try:
        yield buffer
    finally:
        handler.setStream(previous)


def test_a_booking_journey_leaves_no_token_in_the_log(log: io.StringIO):
    service = make_service()
    client = APIClient()
    with time_machine.travel(NOW, tick=False):
        booked = book(client, service, WED_10)
        assert booked.status_code == 201
        token, appointment_id = token_of(booked), booked.json()["id"]
        feed = feed_token(provider=service.provider)
        answers = [
            client.get(f"/m/{token}/booked").status_code,
            client.get(f"/m/{token}/cancel").status_code,  # the "Cancel?" question
            client.get(f"/m/{token}/nothing-here").status_code,
            client.get(f"/api/appointments/{appointment_id}/?token={token}").status_code,
            client.get(f"/api/appointments/{appointment_id}/invite.ics?token={token}x").status_code,
            client.get(f"/calendar/{feed}.ics").status_code,
            client.get(f"/calendar/{feed}.ical").status_code,
            client.get(f"/r/{token}").status_code,
        ]
        logging.getLogger("scheduling").warning("could not text %s", booked.json()["manage_url"])
    assert answers == [200, 200, 404, 200, 404, 200, 404, 404]
    written = log.getvalue()
    assert "[redacted]" in written and "Not Found" in written
    assert token not in written and feed not in written


def test_a_traceback_is_redacted_too():
    try:
        raise ValueError("no appointment for /m/SeCrEtToKeN123")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), None)
        record.exc_info = sys.exc_info()
    RedactSecretsFilter().filter(record)
    assert "SeCrEtToKeN123" not in (record.exc_text or "")


@pytest.mark.parametrize(
    ("line", "clean"),
    [
        ("Not Found: /m/abc_DEF-123/booked", "Not Found: /m/[redacted]/booked"),
        ("POST /s/abc_DEF-123/cancel HTTP/1.1", "POST /s/[redacted]/cancel HTTP/1.1"),
        ("GET /r/abc123/dana/book/ HTTP/1.1", "GET /r/[redacted]/dana/book/ HTTP/1.1"),
        ("/calendar/abc123.ics", "/calendar/[redacted]"),
        ("/api/appointments/1/?token=abc&tz=UTC", "/api/appointments/1/?token=[redacted]&tz=UTC"),
        ("/accounts/reset/MQ/cf3-7a1b/", "/accounts/reset/[redacted]"),
        (
            "/accounts/login/?next=%2Fm%2Fabc%2Fbooked",
            "/accounts/login/?next=%2Fm%2F[redacted]%2Fbooked",
        ),
        ("/providers/dana/?state=NY", "/providers/dana/?state=NY"),
    ],
)
def test_each_kind_of_token_is_redacted(line: str, clean: str):
    assert redact_secrets(line) == clean


def test_gunicorn_access_lines_carry_no_token(capsys):
    config = Config()
    for name, value in config_values().items():
        config.set(name, value)
    logger = RedactingLogger(config)
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": "/m/SeCrEt123/booked?token=SeCrEt456",
        "PATH_INFO": "/m/SeCrEt123/booked",
        "QUERY_STRING": "token=SeCrEt456",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "203.0.113.5",
        "HTTP_REFERER": "https://x.example/calendar/SeCrEt789.ics",
    }
    response = SimpleNamespace(status="200 OK", sent=10, headers=[])
    logger.access(response, SimpleNamespace(headers=[]), environ, timedelta(seconds=1))
    line = capsys.readouterr().out
    assert "/m/[redacted]/booked" in line and "SeCrEt" not in line


def config_values() -> dict[str, object]:
    """The settings config/gunicorn.py gives gunicorn (access log to stdout, our logger)."""
    return {name: getattr(gunicorn_settings, name) for name in ("accesslog", "logger_class")}
