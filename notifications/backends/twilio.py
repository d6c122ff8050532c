"""Twilio through the real SDK; TWILIO_API_BASE_URL may point it at a compatible server."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from typing import Any

import requests
from django.conf import settings
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from notifications.backends.base import (
    UNDELIVERABLE_CODES,
    BaseSmsBackend,
    SendResult,
    SmsMessage,
    TransportError,
)

TWILIO_ORIGIN = "https://api.twilio.com"
LOOKUP_WINDOW = timedelta(minutes=5)
# The SDK logs each request's query (a lookup's To number) at INFO: keep that out of logs.
_sdk_logger = logging.getLogger("notifications.backends.twilio.sdk")
_sdk_logger.setLevel(logging.WARNING)


class BaseUrlHttpClient(TwilioHttpClient):
    """The SDK's own HTTP client, with the API origin swapped for `base_url`.

    The SDK composes absolute https://api.twilio.com/... URLs in its domain classes; the
    origin is replaced here, at the one place every request passes, so plain-HTTP test
    servers and Twilio-compatible gateways work with every resource the SDK offers.
    """

    def __init__(self, base_url: str, **kwargs: Any) -> None:
        kwargs.setdefault("logger", _sdk_logger)
        super().__init__(**kwargs)
        self.base_url = base_url.rstrip("/")

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        if self.base_url != TWILIO_ORIGIN and url.startswith(TWILIO_ORIGIN):
            url = self.base_url + url[len(TWILIO_ORIGIN) :]
        return super().request(method, url, *args, **kwargs)


_local = threading.local()


def get_client() -> Client:
    """One SDK client per thread (its requests session is not shared across threads)."""
    key = (
        settings.TWILIO_ACCOUNT_SID,
        settings.TWILIO_AUTH_TOKEN,
        settings.TWILIO_API_BASE_URL,
    )
    cached = getattr(_local, "client", None)
    if cached is None or cached[0] != key:
        http_client = BaseUrlHttpClient(
            settings.TWILIO_API_BASE_URL, timeout=settings.TWILIO_HTTP_TIMEOUT_SECONDS
        )
        client = Client(
            settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN, http_client=http_client
        )
        _local.client = (key, client)
        return client
    return cached[1]


def _connect_failed(exc: requests.ConnectionError) -> bool:
    """True when the request surely never reached the server (nothing to reconcile)."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    text = repr(exc)
    return "NewConnectionError" in text or "Connection refused" in text


def _as_transport_error(exc: Exception) -> TransportError:
    if isinstance(exc, TwilioRestException):
        code = str(exc.code or "")
        if exc.status == 429:
            return TransportError(f"HTTP 429 rate limited {code}".strip(), code=code or "429")
        if exc.status >= 500:
            return TransportError(f"HTTP {exc.status}", code=code or str(exc.status))
        if code in UNDELIVERABLE_CODES:
            return TransportError(f"Twilio error {code}", permanent=True, code=code)
        if exc.status in (401, 403):
            # Credentials or account trouble: an operator can fix it, so retry for a while.
            return TransportError(f"HTTP {exc.status} {code}".strip(), code=code)
        return TransportError(
            f"HTTP {exc.status} {code}".strip(), permanent=True, code=code or str(exc.status)
        )
    if isinstance(exc, requests.ConnectionError) and _connect_failed(exc):
        return TransportError(f"connection failed: {type(exc).__name__}", code="network")
    if isinstance(exc, requests.RequestException | TwilioException):
        # Timed out or dropped after sending: Twilio may have accepted the message.
        return TransportError(
            f"no answer: {type(exc).__name__}", code="network", outcome_unknown=True
        )
    raise exc


class TwilioBackend(BaseSmsBackend):
    def send(self, message: SmsMessage) -> SendResult:
        params: dict[str, Any] = {"to": message.to, "body": message.body}
        if settings.TWILIO_MESSAGING_SERVICE_SID:
            params["messaging_service_sid"] = settings.TWILIO_MESSAGING_SERVICE_SID
        else:
            params["from_"] = settings.TWILIO_FROM_NUMBER
        if message.status_callback:
            params["status_callback"] = message.status_callback
        try:
            created = get_client().messages.create(**params)
        except Exception as exc:  # classified, or re-raised when unknown
            raise _as_transport_error(exc) from exc
        return SendResult(message_id=created.sid or "", status=str(created.status or "queued"))

    def lookup(self, message: SmsMessage, message_id: str = "") -> SendResult | None:
        """Ask Twilio whether it holds this message: by SID, else by recipient and body."""
        client = get_client()
        try:
            if message_id:
                found = client.messages(message_id).fetch()
                return SendResult(message_id=found.sid or message_id, status=str(found.status))
            since = message.claimed_at - LOOKUP_WINDOW if message.claimed_at else None
            for candidate in client.messages.list(to=message.to, limit=100):
                if candidate.body != message.body:
                    continue
                if str(candidate.direction or "").startswith("inbound"):
                    continue
                if since and candidate.date_created and candidate.date_created < since:
                    continue
                return SendResult(message_id=candidate.sid or "", status=str(candidate.status))
        except TwilioRestException as exc:
            if exc.status == 404:
                return None
            raise _as_transport_error(exc) from exc
        except Exception as exc:  # classified, or re-raised when unknown
            raise _as_transport_error(exc) from exc
        return None
