"""In-memory SMS backend for tests: messages land in `outbox`; `failures` are raised first."""

from __future__ import annotations

from notifications.backends.base import BaseSmsBackend, SendResult, SmsMessage, TransportError

outbox: list[SmsMessage] = []
# Tests append TransportErrors here; each send raises the next one instead of sending.
failures: list[TransportError] = []


class LocmemBackend(BaseSmsBackend):
    def send(self, message: SmsMessage) -> SendResult:
        if failures:
            raise failures.pop(0)
        outbox.append(message)
        return SendResult(message_id=f"SMlocmem{message.notification_id}", status="queued")

    def lookup(self, message: SmsMessage, message_id: str = "") -> SendResult | None:
        for sent in outbox:
            if sent.notification_id == message.notification_id:
                return SendResult(message_id=f"SMlocmem{sent.notification_id}", status="queued")
        return None
