"""The task queue as tests see it: what was handed to the configured broker (the ORM, or
Redis on the PostgreSQL run), taken off so no worker of a later test runs it."""

from __future__ import annotations

from typing import Any

from django_q.brokers import get_broker
from django_q.signing import SignedPackage


def drain_queue() -> list[dict[str, Any]]:
    """Take every task off the broker: each as django-q2's dict (func, args, kwargs...)."""
    broker = get_broker()
    tasks: list[dict[str, Any]] = []
    while batch := broker.dequeue():
        for ack_id, payload in batch:
            tasks.append(SignedPackage.loads(payload))
            broker.acknowledge(ack_id)
    return tasks
