"""Console SMS backend: prints each message to stdout (development only)."""

from __future__ import annotations

import sys

from notifications.backends.base import BaseSmsBackend, SendResult, SmsMessage


class ConsoleBackend(BaseSmsBackend):
    def send(self, message: SmsMessage) -> SendResult:
        sys.stdout.write(f"SMS #{message.notification_id} to {message.to}\n{message.body}\n\n")
        sys.stdout.flush()
        return SendResult(message_id=f"SMconsole{message.notification_id}", status="sent")
