"""Expired Idempotency-Key answers are purged daily by a django-q2 Schedule."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django_q.models import Schedule

from scheduling import tasks
from scheduling.models import IdempotencyKey

pytestmark = pytest.mark.django_db


def test_the_purge_schedule_exists_after_migrate_and_runs_daily():
    schedule = Schedule.objects.get(name="scheduling.purge_idempotency_keys")
    assert schedule.func == "scheduling.tasks.purge_idempotency_keys"
    assert schedule.schedule_type == Schedule.DAILY
    assert schedule.repeats == -1


def test_the_purge_task_deletes_only_keys_older_than_a_day():
    now = timezone.now()
    IdempotencyKey.objects.create(
        scope="book", key="old", request_hash="x", created_at=now - timedelta(hours=25)
    )
    IdempotencyKey.objects.create(
        scope="book", key="fresh", request_hash="x", created_at=now - timedelta(hours=23)
    )

    assert tasks.purge_idempotency_keys() == 1

    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["fresh"]


def test_the_schedule_func_resolves_to_the_task():
    from django.utils.module_loading import import_string

    schedule = Schedule.objects.get(name="scheduling.purge_idempotency_keys")
    assert import_string(schedule.func) is tasks.purge_idempotency_keys
