"""SMS backends, chosen by settings.SMS_BACKEND the way Django chooses email backends."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.utils.module_loading import import_string

# Provider (Twilio) error codes: the number opted out at the carrier, and every code after
# which the same message can never be delivered to that number.
OPTED_OUT_CODE = "21610"
UNDELIVERABLE_CODES = frozenset({OPTED_OUT_CODE, "21211", "21614", "21408", "21612", "21606"})


@dataclass(frozen=True)
class SmsMessage:
    """One text to send; `notification_id` names the outbox row it comes from."""

    notification_id: int
    to: str
    body: str
    status_callback: str = ""
    # When the row was claimed: a lookup after a crash only considers later messages.
    claimed_at: datetime | None = None


@dataclass(frozen=True)
class SendResult:
    """What the provider said about a message: its id and its status (queued, sent...)."""

    message_id: str
    status: str = "sent"
    error_code: str = ""


class TransportError(Exception):
    """A send failed.

    `permanent`: retrying cannot help (invalid number, opted out).
    `outcome_unknown`: the request may have reached the provider (a read timeout, a dropped
    connection): the message must be looked up before it is sent again.
    """

    def __init__(
        self,
        message: str,
        *,
        permanent: bool = False,
        code: str = "",
        outcome_unknown: bool = False,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        self.code = code
        self.outcome_unknown = outcome_unknown
        self.retry_after = retry_after


class BaseSmsBackend:
    """Subclasses implement `send`; `lookup` lets the outbox reconcile after a crash."""

    def __init__(self, **kwargs: Any) -> None:
        self.options = kwargs

    def send(self, message: SmsMessage) -> SendResult:
        """Send one message or raise TransportError."""
        raise NotImplementedError

    def send_messages(self, messages: list[SmsMessage]) -> list[SendResult]:
        """Send several messages in order (Django's email-backend shape)."""
        return [self.send(message) for message in messages]

    def lookup(self, message: SmsMessage, message_id: str = "") -> SendResult | None:
        """Find a message the provider may have accepted; None when it surely did not.

        The default backend keeps no record anywhere else, so nothing was sent.
        """
        return None


@lru_cache(maxsize=4)
def _backend_class(path: str) -> type[BaseSmsBackend]:
    cls = import_string(path)
    if not (isinstance(cls, type) and issubclass(cls, BaseSmsBackend)):
        raise TypeError(f"{path} is not an SMS backend")
    return cls


def get_backend(path: str | None = None, **kwargs: Any) -> BaseSmsBackend:
    """An instance of the configured backend (or of `path`)."""
    return _backend_class(path or settings.SMS_BACKEND)(**kwargs)
