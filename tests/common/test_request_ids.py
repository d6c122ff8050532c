"""Every response carries a request id, and every log line written meanwhile names it."""

from __future__ import annotations

import json
import logging

import pytest
from pythonjsonlogger.json import JsonFormatter

from common.request_ids import RequestIdFilter, current_request_id

pytestmark = pytest.mark.django_db


def test_a_response_carries_a_fresh_request_id(client):
    first = client.get("/healthz/")["X-Request-ID"]
    second = client.get("/healthz/")["X-Request-ID"]

    assert len(first) == 32 and first != second


def test_a_proxys_plain_request_id_is_kept(client):
    response = client.get("/healthz/", HTTP_X_REQUEST_ID="edge-7f3a9c2b")

    assert response["X-Request-ID"] == "edge-7f3a9c2b"


def test_a_request_id_that_is_not_a_plain_token_is_replaced(client):
    response = client.get("/healthz/", HTTP_X_REQUEST_ID="x\\n<script>")

    assert response["X-Request-ID"] != "x\\n<script>"
    assert len(response["X-Request-ID"]) == 32


def test_once_a_request_is_answered_its_id_is_gone(client):
    client.get("/healthz/", HTTP_X_REQUEST_ID="edge-00000002")

    assert current_request_id() == ""


def test_a_json_log_line_holds_the_request_id_of_its_request(client, monkeypatch):
    lines: list[str] = []

    class Capture(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(self.format(record))

    handler = Capture()
    handler.setFormatter(JsonFormatter("%(levelname)s %(name)s %(message)s %(request_id)s"))
    handler.addFilter(RequestIdFilter())
    logger = logging.getLogger("django.request")
    logger.addHandler(handler)
    try:
        response = client.get("/api/providers/nobody-here/", HTTP_X_REQUEST_ID="edge-00000001")
    finally:
        logger.removeHandler(handler)

    assert response.status_code == 404
    assert [json.loads(line)["request_id"] for line in lines] == ["edge-00000001"]
