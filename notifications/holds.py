"""The last word before a send: the check named in settings.NOTIFICATION_SEND_CHECK.

notifications knows nothing of patients; the app that does (scheduling.circle.sending)
decides, when a claimed row is about to go, whether it still may: a consent withdrawn, a
patient who turned texts off or whose quiet hours began since the row was recorded. The
check returns None to send, or a Hold: withheld for good (`until` None, the row becomes
`suppressed` with the reason) or until a later moment (the row waits, pending again).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from django.conf import settings
from django.db.models import F
from django.utils import timezone
from django.utils.module_loading import import_string

from notifications.models import Notification, NotificationStatus

S = NotificationStatus


@dataclass(frozen=True)
class Hold:
    reason: str
    until: datetime | None = None


@lru_cache(maxsize=4)
def _load(path: str) -> Callable[[Notification, datetime], Hold | None]:
    return import_string(path)


def held(notification: Notification, now: datetime) -> bool:
    """Ask the check about a row this worker claimed; apply a hold. True when held."""
    path = getattr(settings, "NOTIFICATION_SEND_CHECK", "")
    hold = _load(path)(notification, now) if path else None
    if hold is None:
        return False
    fields: dict[str, object] = {"last_error": hold.reason[:500], "updated_at": timezone.now()}
    if hold.until is None:
        fields["status"] = S.SUPPRESSED
    else:
        # Waiting is not an attempt: the claim's count is given back.
        fields.update(
            status=S.PENDING,
            claimed_at=None,
            queued_at=None,
            send_after=hold.until,
            attempts=F("attempts") - 1,
        )
    Notification.objects.filter(pk=notification.pk, status=S.SENDING).update(**fields)
    return True
