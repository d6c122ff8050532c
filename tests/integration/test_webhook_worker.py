"""Outbound webhooks through a real `qcluster` worker, killed mid-post (see test_worker.py
for the shared database and the worker's lifecycle)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings as django_settings
from standardwebhooks.webhooks import Webhook

from tests.integration import test_worker as worker
from tests.integration.test_worker import STEP, Stack, book_visit, wait_for
from tests.notifications.webhook_receiver import webhook_receiver

pytestmark = pytest.mark.integration

# The worker stack and its shared database, as test_worker.py runs them.
migrated_template = worker.migrated_template
shared_db = worker.shared_db
stack = worker.stack


@pytest.fixture
def receiver(stack: Stack, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_HOSTS = True
    stack.env["WEBHOOK_ALLOW_PRIVATE_HOSTS"] = "1"
    stack.stop_worker()
    stack.start_worker()  # again, with the setting
    with webhook_receiver() as r:
        yield r


def status_of(delivery_id: int) -> str:
    from notifications.models import WebhookDelivery

    return WebhookDelivery.objects.get(pk=delivery_id).status


def test_the_worker_posts_a_signed_event_once(stack: Stack, receiver) -> None:
    from notifications import webhooks
    from notifications.models import WebhookDelivery

    endpoint = webhooks.register_endpoint(url=receiver.url, events=["appointment.booked"])
    appointment = book_visit()
    delivery = WebhookDelivery.objects.get()
    wait_for(lambda: status_of(delivery.pk) == "delivered", what="the delivery")
    (request,) = receiver.requests
    event = Webhook(endpoint.secret).verify(request.body, request.headers)
    assert event["data"]["appointment"]["id"] == str(appointment.pk)


def test_killing_the_worker_mid_post_leaves_one_delivery_with_one_webhook_id(
    stack: Stack, receiver
) -> None:
    from notifications import webhooks
    from notifications.models import WebhookDelivery

    endpoint = webhooks.register_endpoint(url=receiver.url, events=["appointment.booked"])
    receiver.hold()
    book_visit()
    assert receiver.arrived.wait(STEP), "the worker never posted"
    stack.kill_worker()  # the receiver has the event; the worker never hears its answer
    receiver.release()
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "sending"

    stack.start_worker()
    lease = django_settings.NOTIFICATION_SENDING_LEASE_SECONDS
    webhooks.sweep(now=datetime.now(UTC) + timedelta(seconds=lease + 1))  # the claim expired
    wait_for(lambda: status_of(delivery.pk) == "delivered", what="the delivery")

    assert WebhookDelivery.objects.count() == 1
    ids = {r.headers["webhook-id"] for r in receiver.requests}
    assert ids == {delivery.message_id}  # the receiver drops the repeat by its id
    assert len(receiver.requests) == 2
    for request in receiver.requests:
        Webhook(endpoint.secret).verify(request.body, request.headers)
