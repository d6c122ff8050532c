"""Change history of the directory, availability, referrals and coordinators, kept by
django-simple-history: a historical row per save or delete with the whole record as it was
and the signed-in user (its middleware). Bulk writes (the directory import) go through the
helpers below, which write their history in bulk too."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import models
from django.db.models import QuerySet
from django.utils import timezone
from simple_history import register
from simple_history.utils import bulk_create_with_history

# Secrets never enter the history: a token's salt and hash stay on the live row only.
_SECRET_SUFFIXES = ("token_salt", "token_hash")


def track_history(*tracked: type[models.Model]) -> None:
    """Give each model a `history` manager and a historical table in its own app."""
    for model in tracked:
        secret = [f.name for f in model._meta.fields if f.name.endswith(_SECRET_SUFFIXES)]
        register(model, excluded_fields=secret)


def is_tracked(model: type[models.Model]) -> bool:
    return hasattr(model, "history")


def create_with_history(model: type[models.Model], rows: list[Any], *, batch_size: int) -> None:
    """bulk_create the rows, then their "+" history rows in one more bulk insert."""
    bulk_create_with_history(rows, model, batch_size=batch_size)


def delete_with_history(queryset: QuerySet[Any]) -> None:
    """Write the rows' "-" history in one bulk insert, then delete them in one statement.

    A plain queryset delete would load the rows and insert each history row alone: the
    history's post_delete receiver turns Django's fast delete off. Only for models that
    nothing references (hours, overrides, time off, licenses).
    """
    rows = list(queryset)
    if not rows:
        return
    _write_history(queryset.model, rows, "-")
    queryset.model._base_manager.filter(pk__in=[row.pk for row in rows])._raw_delete(queryset.db)


def record_updates(model: type[models.Model], rows: Sequence[Any]) -> None:
    """The "~" history rows of rows just changed by a queryset update()."""
    if rows:
        _write_history(model, rows, "~")


def _write_history(model: type[models.Model], rows: Sequence[Any], kind: str) -> None:
    history = model.history.model  # type: ignore[attr-defined]
    now = timezone.now()
    history.objects.bulk_create(
        [
            history(
                history_type=kind,
                history_date=now,
                history_user=history.get_default_history_user(row),
                **{field.attname: getattr(row, field.attname) for field in history.tracked_fields},
            )
            for row in rows
        ]
    )
