"""The guarded requests session (CalDAV's transport): addresses checked at every connection,
redirects included, and the whole exchange bounded in time and size."""

from __future__ import annotations

import socket
import time
from typing import Any

import pytest
import requests

from notifications import outbound
from notifications.outbound_session import guarded_session
from tests.scheduling.calendar_server import calendar_server

BODY = b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n" * 20


@pytest.fixture
def fake_dns(monkeypatch: Any) -> dict[str, str]:
    """Names resolving where a test says; 127.0.0.1 counts as public (the test server)."""
    names: dict[str, str] = {}
    real_getaddrinfo, real_is_public = socket.getaddrinfo, outbound.is_public_address

    def getaddrinfo(host: str, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host in names:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (names[host], port))]
        return real_getaddrinfo(host, port, *args, **kwargs)

    monkeypatch.setattr(outbound.socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(
        outbound, "is_public_address", lambda a: a == "127.0.0.1" or real_is_public(a)
    )
    return names


def test_a_private_address_is_refused_before_connecting():
    with calendar_server(BODY) as server:
        with guarded_session(allow_private=False, timeout=5, max_bytes=10_000) as (session, guard):
            guard.require_https = False  # the test server speaks plain HTTP
            with pytest.raises(outbound.OutboundRefused):
                session.get(server.url)
        assert server.requests == []
        assert guard.failed


def test_plain_http_is_refused_unless_private_hosts_are_allowed(fake_dns):
    fake_dns["calendar.example.org"] = "127.0.0.1"
    with guarded_session(allow_private=False, timeout=5, max_bytes=10_000) as (session, _):
        with pytest.raises(outbound.OutboundRefused, match="https"):
            session.get("http://calendar.example.org/a.ics")


def test_a_redirect_to_the_metadata_address_is_refused_before_connecting(fake_dns):
    with calendar_server(BODY) as server:
        port = server.url.split(":")[2].split("/")[0]
        fake_dns["calendar.example.org"] = "127.0.0.1"
        fake_dns["metadata.example.org"] = "169.254.169.254"
        server.statuses = [302]
        server.location = "http://metadata.example.org/latest/meta-data/"
        with guarded_session(allow_private=False, timeout=5, max_bytes=10_000) as (session, guard):
            guard.require_https = False
            with pytest.raises(outbound.OutboundRefused, match="private or reserved"):
                session.get(f"http://calendar.example.org:{port}/calendar.ics")
        assert len(server.requests) == 1


def test_an_answer_larger_than_the_bound_is_refused():
    with calendar_server(BODY) as server:
        with guarded_session(allow_private=True, timeout=5, max_bytes=100) as (session, guard):
            with pytest.raises(outbound.ResponseTooLarge):
                session.get(server.url)
        assert guard.too_large


def test_a_trickling_server_is_cut_off_when_the_time_is_up():
    with calendar_server(BODY) as server:
        server.trickle_seconds = 30
        started = time.monotonic()
        with guarded_session(allow_private=True, timeout=1, max_bytes=10_000) as (session, guard):
            with pytest.raises((requests.RequestException, TimeoutError)):
                session.get(server.url)
        assert time.monotonic() - started < 5
        assert guard.expired


def test_a_small_answer_within_the_time_is_read_whole():
    with calendar_server(BODY) as server:
        with guarded_session(allow_private=True, timeout=5, max_bytes=10_000) as (session, guard):
            response = session.get(server.url)
        assert (response.status_code, response.content) == (200, BODY)
        assert not guard.failed
