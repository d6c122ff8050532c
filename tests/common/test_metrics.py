"""/metrics/ (Prometheus text format): closed unless a token is set, no token or path in a
label, and the figures an operator watches."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from notifications import recording, tasks
from notifications.models import Channel

pytestmark = pytest.mark.django_db
TOKEN = "scrape-secret-0123456789"


@pytest.fixture
def scrape(client, settings):
    settings.METRICS_TOKEN = TOKEN

    def get() -> str:
        response = client.get("/metrics/", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/plain")
        return response.content.decode()

    return get


def value(text: str, name: str, **labels: str) -> float:
    """The sample's value, 0 when it is absent."""
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    pattern = re.escape(name) + (r"\{" + re.escape(wanted) + r"\}" if labels else "") + r" (\S+)"
    found = re.search(r"^" + pattern + r"$", text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def test_metrics_are_not_found_without_a_token_setting(client, settings):
    settings.METRICS_TOKEN = ""

    assert client.get("/metrics/", HTTP_AUTHORIZATION="Bearer ").status_code == 404


def test_metrics_are_not_found_with_a_wrong_token(client, settings):
    settings.METRICS_TOKEN = TOKEN

    assert client.get("/metrics/", HTTP_AUTHORIZATION="Bearer guess").status_code == 404
    assert client.get("/metrics/").status_code == 404


def test_a_request_is_counted_by_its_route_pattern_never_its_path(client, scrape):
    client.get("/m/secret-token-that-must-not-leak")

    text = scrape()
    assert "secret-token-that-must-not-leak" not in text
    assert re.search(
        r'^bridgeway_http_requests_total\{method="GET",route="/m/<str:token>"', text, re.M
    )


def test_a_refused_booking_is_counted_by_its_code(client, scrape):
    before = value(scrape(), "bridgeway_booking_outcomes_total", outcome="malformed_request")

    client.post("/api/appointments/", "{not json", content_type="application/json")

    after = value(scrape(), "bridgeway_booking_outcomes_total", outcome="malformed_request")
    assert after == before + 1


def test_due_messages_and_the_oldest_wait_are_read_from_the_outbox(scrape, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    recording.enqueue(
        channel=Channel.EMAIL,
        recipient="someone@example.net",
        template="t",
        subject="s",
        body="b",
        dedupe_key="metrics-test",
        send_after=timezone.now() + timedelta(seconds=10),  # recorded, not sent at once
    )
    time_machine.shift(100)  # due for 90 s, and no worker has swept

    text = scrape()
    assert value(text, "bridgeway_outbox_due_messages", channel="email") == 1
    assert value(text, "bridgeway_outbox_oldest_due_seconds") == pytest.approx(90, abs=1)


def test_the_age_of_the_last_sweep_is_shown(scrape):
    assert value(scrape(), "bridgeway_worker_sweep_age_seconds") == -1

    tasks.sweep_due()

    assert 0 <= value(scrape(), "bridgeway_worker_sweep_age_seconds") < 5


def test_a_sent_message_is_counted_by_channel_and_outcome(scrape):
    before = value(scrape(), "bridgeway_message_outcomes_total", channel="email", outcome="sent")
    message = recording.enqueue(
        channel=Channel.EMAIL,
        recipient="someone@example.net",
        template="t",
        subject="s",
        body="b",
        dedupe_key="metrics-sent",
    )

    tasks.send_notification(message.pk)

    after = value(scrape(), "bridgeway_message_outcomes_total", channel="email", outcome="sent")
    assert after == before + 1


def test_failed_tasks_kept_by_django_q_are_shown(scrape):
    from django_q.models import Task

    assert value(scrape(), "bridgeway_task_failures") == 0
    Task.objects.create(
        id="f" * 32,
        name="broken-task",
        func="notifications.tasks.send_notifications",
        started=timezone.now(),
        stopped=timezone.now(),
        success=False,
    )

    assert value(scrape(), "bridgeway_task_failures") == 1


COUNT_ONE_BOOKING = """
import django
django.setup()
from common.metrics import count_booking
count_booking("booked")
"""

EXPOSE = """
import django
django.setup()
from common import metrics
metrics._scrape_collectors.clear()  # the outbox's gauges need a migrated database
print(metrics.exposition().decode())
"""


def test_in_multiprocess_mode_the_scrape_sums_every_processs_counts(tmp_path):
    """Two processes (two gunicorn workers) count a booking each; a third one's scrape
    shows both, as prometheus-client's multiprocess mode reads every process's file."""
    import os
    import subprocess
    import sys

    env = {
        **os.environ,
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "1",
    }
    for _ in range(2):
        subprocess.run([sys.executable, "-c", COUNT_ONE_BOOKING], env=env, check=True)

    shown = subprocess.run(
        [sys.executable, "-c", EXPOSE], env=env, check=True, capture_output=True, text=True
    ).stdout
    assert value(shown, "bridgeway_booking_outcomes_total", outcome="booked") == 2
