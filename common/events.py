"""The append-only event shape both timelines use (appointments, referrals), who acts, and
the transitions table every stateful model consults before its status changes."""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone

from common.errors import InvalidTransition


class Actor(models.TextChoices):
    PATIENT = "patient", "Patient"
    PROVIDER = "provider", "Provider"
    STAFF = "staff", "Staff"
    SYSTEM = "system", "System"


def signed_in(user: Any) -> Any:
    """The user to record on an event, or None for anonymous and system changes."""
    return user if getattr(user, "is_authenticated", False) and getattr(user, "pk", None) else None


class AppendOnlyEvent(models.Model):
    """One row per change: who (actor, user), what (kind), from which status to which."""

    at = models.DateTimeField(default=timezone.now)
    actor = models.CharField(max_length=16, choices=Actor.choices)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=32)
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16, blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        abstract = True
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.kind} by {self.actor} at {self.at:%Y-%m-%d %H:%M}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise ValueError(f"{type(self).__name__} rows are append-only.")
        super().save(*args, **kwargs)


class Stateful:
    """Mixin for a model with a `status` field and a class-level TRANSITIONS table."""

    TRANSITIONS: ClassVar[dict[str, frozenset[str]]]
    status: str

    def can_transition_to(self, status: str) -> bool:
        return status in self.TRANSITIONS.get(self.status, frozenset())

    def check_transition(self, status: str) -> None:
        """Raise InvalidTransition (409) unless the table allows moving to `status`."""
        if not self.can_transition_to(status):
            noun = type(self).__name__.lower()
            raise InvalidTransition(
                f"This {noun} is {self.status} and cannot become {status}.",
                fields={"status": self.status, "to": status},
            )
