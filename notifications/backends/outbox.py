"""Development outbox: nothing leaves the machine; /dev/sms/ lists the stored rows."""

from __future__ import annotations

from notifications.backends.base import BaseSmsBackend, SendResult, SmsMessage


class OutboxBackend(BaseSmsBackend):
    """The Notification row already holds the text; sending only marks it sent."""

    def send(self, message: SmsMessage) -> SendResult:
        return SendResult(message_id=f"SMoutbox{message.notification_id}", status="sent")
