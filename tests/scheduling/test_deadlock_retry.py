"""A booking PostgreSQL picked as a deadlock victim runs again instead of answering 503."""

from __future__ import annotations

import pytest
from django.db import OperationalError

from scheduling.booking.views import retrying


class _Cause(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


def _failing(sqlstate: str, times: int):
    calls = []

    def work() -> str:
        calls.append(1)
        if len(calls) <= times:
            raise OperationalError("conflict") from _Cause(sqlstate)
        return "booked"

    return work, calls


@pytest.mark.parametrize("sqlstate", ["40P01", "40001"])
def test_a_deadlock_or_serialization_failure_is_run_again(sqlstate):
    work, calls = _failing(sqlstate, times=2)
    assert retrying(work) == "booked"
    assert len(calls) == 3


def test_a_lock_timeout_is_not_retried_but_answered_busy_by_the_caller():
    work, calls = _failing("55P03", times=1)
    with pytest.raises(OperationalError):
        retrying(work)
    assert len(calls) == 1


def test_retries_stop_after_three_attempts():
    work, calls = _failing("40P01", times=5)
    with pytest.raises(OperationalError):
        retrying(work)
    assert len(calls) == 3
