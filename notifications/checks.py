"""System checks that refuse SMS settings which cannot work."""

from __future__ import annotations

import math
from typing import Any

from django.conf import settings
from django.core.checks import Error, Warning, register

TWILIO_BACKEND = "notifications.backends.twilio.TwilioBackend"


@register()
def check_sms_settings(app_configs: Any = None, **kwargs: Any) -> list[Error | Warning]:
    problems: list[Error | Warning] = []
    if settings.SMS_BACKEND == TWILIO_BACKEND:
        if not (settings.TWILIO_ACCOUNT_SID and settings.TWILIO_AUTH_TOKEN):
            problems.append(
                Error(
                    "SMS_BACKEND is Twilio but TWILIO_ACCOUNT_SID or TWILIO_AUTH_TOKEN is unset.",
                    id="notifications.E001",
                )
            )
        if not (settings.TWILIO_FROM_NUMBER or settings.TWILIO_MESSAGING_SERVICE_SID):
            problems.append(
                Error(
                    "Twilio needs a sender: set TWILIO_FROM_NUMBER or "
                    "TWILIO_MESSAGING_SERVICE_SID.",
                    id="notifications.E002",
                )
            )
    q_cluster = getattr(settings, "Q_CLUSTER", {})
    timeout = int(q_cluster.get("timeout") or 0)
    rounds = math.ceil(settings.NOTIFICATIONS_BATCH_SIZE / settings.NOTIFICATIONS_SEND_CONCURRENCY)
    if timeout and rounds * settings.TWILIO_HTTP_TIMEOUT_SECONDS >= timeout:
        problems.append(
            Warning(
                "A batch of slow Twilio answers could outlast the django-q2 task timeout.",
                hint="Lower NOTIFICATIONS_BATCH_SIZE or TWILIO_HTTP_TIMEOUT_SECONDS, or raise "
                "NOTIFICATIONS_SEND_CONCURRENCY.",
                id="notifications.W001",
            )
        )
    if timeout and settings.NOTIFICATION_SENDING_LEASE_SECONDS <= timeout:
        problems.append(
            Warning(
                "NOTIFICATION_SENDING_LEASE_SECONDS must exceed the django-q2 task timeout, or "
                "a slow live send could be reconciled while it is still running.",
                id="notifications.W002",
            )
        )
    return problems
