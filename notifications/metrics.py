"""The outbox's gauges for /metrics/ (common.metrics), read from the database at scrape
time: right whichever machine the workers run on."""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import Count
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector


class OutboxCollector(Collector):
    """A few indexed queries a scrape: due messages by channel, the oldest one's wait,
    failed tasks kept, and the age of the last sweep."""

    NAMES = (
        "bridgeway_outbox_due_messages",
        "bridgeway_outbox_oldest_due_seconds",
        "bridgeway_task_failures",
        "bridgeway_worker_sweep_age_seconds",
    )

    def describe(self) -> Iterator[GaugeMetricFamily]:
        """Names only: registering must not query a database that may not exist yet."""
        for name in self.NAMES:
            yield GaugeMetricFamily(name, name)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from django_q.models import Failure

        from notifications.delivery import due_notifications
        from notifications.health import last_sweep_age

        now = timezone.now()
        due = due_notifications(now).order_by()
        depth = GaugeMetricFamily(
            "bridgeway_outbox_due_messages",
            "Messages due and not yet handed to a transport, by channel.",
            labels=["channel"],
        )
        for channel, count in (
            due.values("channel").annotate(n=Count("id")).values_list("channel", "n")
        ):
            depth.add_metric([str(channel)], int(count))
        yield depth
        oldest = due.order_by("send_after").values_list("send_after", flat=True).first()
        yield GaugeMetricFamily(
            "bridgeway_outbox_oldest_due_seconds",
            "How long the oldest due message has waited (0 when none is due).",
            value=(now - oldest).total_seconds() if oldest else 0.0,
        )
        yield GaugeMetricFamily(
            "bridgeway_task_failures",
            "Failed django-q2 tasks kept in the database (failures are always kept).",
            value=Failure.objects.count(),
        )
        age = last_sweep_age(now)
        yield GaugeMetricFamily(
            "bridgeway_worker_sweep_age_seconds",
            "Seconds since a worker last finished an outbox sweep (-1: never).",
            value=age.total_seconds() if age is not None else -1.0,
        )
