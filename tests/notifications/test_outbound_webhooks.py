"""Outbound webhooks: the outbox row per event and endpoint, signed posts to a real local
receiver, retries, the claim, auto-disable, resend, SSRF refusals and payload privacy."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction
from rest_framework.test import APIClient
from standardwebhooks.webhooks import Webhook

from notifications import webhooks
from notifications.models import (
    Channel,
    Notification,
    WebhookDelivery,
    WebhookDeliveryStatus,
    WebhookEndpoint,
)
from scheduling.booking import services
from tests.broker import drain_queue
from tests.factories import StaffFactory, UserFactory
from tests.notifications.conftest import NOW, THU_10, book, make_service
from tests.notifications.webhook_receiver import Receiver, webhook_receiver

pytestmark = pytest.mark.django_db

D = WebhookDeliveryStatus


@pytest.fixture(autouse=True)
def _local_receivers(settings: Any, clock: Any) -> None:
    settings.WEBHOOK_ALLOW_PRIVATE_HOSTS = True


@pytest.fixture
def receiver() -> Any:
    with webhook_receiver() as r:
        yield r


def endpoint_for(receiver: Receiver, events: list[str] | None = None) -> WebhookEndpoint:
    return webhooks.register_endpoint(
        url=receiver.url, events=events or ["appointment.booked", "appointment.cancelled"]
    )


def verified(endpoint: WebhookEndpoint, request: Any) -> Any:
    """The body as a receiver using the standardwebhooks library accepts it (raises if not)."""
    return Webhook(endpoint.secret).verify(request.body, request.headers)


def test_a_booking_posts_one_signed_event_to_each_subscribed_endpoint(
    receiver, django_capture_on_commit_callbacks
):
    subscribed = endpoint_for(receiver)
    endpoint_for(receiver, events=["referral.status_changed"])
    with django_capture_on_commit_callbacks(execute=True):
        appointment = book()
    assert WebhookDelivery.objects.count() == 1
    assert len(receiver.requests) == 1
    event = verified(subscribed, receiver.requests[0])
    assert event["type"] == "appointment.booked"
    assert event["data"]["appointment"]["reference"] == f"Appointment/{appointment.pk}"
    assert event["data"]["appointment"]["status"] == "confirmed"
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == D.DELIVERED
    assert receiver.requests[0].headers["webhook-id"] == delivery.message_id


def test_the_signature_is_standard_webhooks_v1_over_id_timestamp_and_body(
    receiver, django_capture_on_commit_callbacks
):
    endpoint = endpoint_for(receiver)
    with django_capture_on_commit_callbacks(execute=True):
        book()
    request = receiver.requests[0]
    assert request.headers["webhook-signature"].startswith("v1,")
    assert request.headers["webhook-timestamp"] == str(int(NOW.timestamp()))
    tampered = request.body.replace(b"booked", b"cancel")
    with pytest.raises(Exception, match="No matching signature"):
        Webhook(endpoint.secret).verify(tampered, request.headers)


def test_a_rolled_back_change_leaves_no_delivery(receiver):
    endpoint_for(receiver)
    service = make_service()
    with pytest.raises(RuntimeError), transaction.atomic():
        book(service=service)
        raise RuntimeError("the change failed after the event was recorded")
    assert not WebhookDelivery.objects.exists()


def test_a_failing_receiver_gets_the_event_again_after_backoff_with_the_same_id(
    receiver, django_capture_on_commit_callbacks, clock
):
    endpoint = endpoint_for(receiver)
    receiver.statuses = [503]
    with django_capture_on_commit_callbacks(execute=True):
        book()
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == D.PENDING
    assert delivery.response_status == 503
    assert delivery.send_after > NOW
    assert webhooks.sweep(now=NOW) == 0  # not due yet

    clock.move_to(delivery.send_after + timedelta(seconds=1), tick=False)
    assert webhooks.sweep() == 1
    delivery.refresh_from_db()
    assert delivery.status == D.DELIVERED
    assert delivery.attempts == 2
    first, second = receiver.requests
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == delivery.message_id
    assert verified(endpoint, second)["type"] == "appointment.booked"
    endpoint.refresh_from_db()
    assert endpoint.consecutive_failures == 0


def test_retries_span_a_day_then_the_delivery_fails():
    total = sum(webhooks.RETRY_SCHEDULE, timedelta())
    assert timedelta(hours=24) <= total <= timedelta(hours=30)


def test_a_delivery_out_of_attempts_is_failed(receiver, clock, settings):
    settings.WEBHOOK_DISABLE_AFTER_FAILURES = 100
    endpoint_for(receiver)
    receiver.statuses = [500] * webhooks.MAX_ATTEMPTS
    book()
    delivery = WebhookDelivery.objects.get()
    for _ in range(webhooks.MAX_ATTEMPTS):
        clock.move_to(delivery.send_after + timedelta(seconds=1), tick=False)
        webhooks.deliver(delivery_id=delivery.pk)
        delivery.refresh_from_db()
    assert delivery.status == D.FAILED
    assert len(receiver.requests) == webhooks.MAX_ATTEMPTS


def test_two_workers_never_post_the_same_delivery(receiver):
    endpoint_for(receiver)
    book()
    delivery = WebhookDelivery.objects.get()
    assert webhooks.deliver(delivery_id=delivery.pk) is not None
    assert webhooks.deliver(delivery_id=delivery.pk) is None
    assert webhooks.sweep() == 0
    assert len(receiver.requests) == 1


def test_a_delivery_held_by_a_dead_worker_is_posted_once_after_its_lease(receiver, settings):
    endpoint_for(receiver)
    book()
    delivery = WebhookDelivery.objects.get()
    # A worker claimed it, then was killed before it could post.
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=D.SENDING, claimed_at=NOW, attempts=1
    )
    assert webhooks.sweep(now=NOW + timedelta(seconds=10)) == 0  # its lease still runs
    lease = timedelta(seconds=settings.NOTIFICATION_SENDING_LEASE_SECONDS + 1)
    assert webhooks.sweep(now=NOW + lease) == 1
    assert webhooks.sweep(now=NOW + 2 * lease) == 0
    assert len(receiver.requests) == 1
    assert WebhookDelivery.objects.get().status == D.DELIVERED


def test_an_endpoint_is_disabled_after_repeated_failures_and_staff_are_told(
    receiver, clock, settings
):
    settings.WEBHOOK_DISABLE_AFTER_FAILURES = 3
    StaffFactory(username="ops", email="ops@example.org")
    endpoint = endpoint_for(receiver)
    receiver.statuses = [500] * 10
    service = make_service()
    for phone in ("+12125550101", "+12125550102"):
        services.cancel_appointment(appointment=book(service=service, phone=phone), actor="staff")
    assert WebhookDelivery.objects.count() == 4
    for delivery in WebhookDelivery.objects.order_by("pk")[:3]:
        webhooks.deliver(delivery_id=delivery.pk)
    endpoint.refresh_from_db()
    assert not endpoint.is_active
    assert endpoint.disabled_at == NOW
    assert "3 failed attempts" in endpoint.disabled_reason
    assert len(receiver.requests) == 3
    assert not WebhookDelivery.objects.filter(status=D.PENDING).exists()
    (email,) = Notification.objects.filter(channel=Channel.EMAIL, template="webhook_disabled")
    assert email.recipient == "ops@example.org"
    assert f"/admin/notifications/webhookendpoint/{endpoint.pk}/" in email.body


def test_a_disabled_endpoint_gets_no_new_deliveries(receiver):
    endpoint = endpoint_for(receiver)
    webhooks.disable_endpoint(endpoint=endpoint, reason="test")
    book()
    assert not WebhookDelivery.objects.exists()


def test_resend_posts_a_delivered_event_again_with_the_same_id(receiver):
    endpoint_for(receiver)
    book()
    delivery = WebhookDelivery.objects.get()
    webhooks.deliver(delivery_id=delivery.pk)
    assert webhooks.resend(deliveries=WebhookDelivery.objects.all()) == 1
    webhooks.deliver(delivery_id=delivery.pk)
    assert [r.headers["webhook-id"] for r in receiver.requests] == [delivery.message_id] * 2


def test_a_redirect_is_not_followed_and_counts_as_a_failure(receiver):
    endpoint_for(receiver)
    receiver.statuses = [302]
    receiver.location = "http://169.254.169.254/latest/meta-data/"
    book()
    delivery = webhooks.deliver(delivery_id=WebhookDelivery.objects.get().pk)
    assert delivery is not None
    assert delivery.status == D.PENDING
    assert delivery.last_error == "HTTP 302"
    assert len(receiver.requests) == 1


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/hook",
        "https://localhost/hook",
        "https://10.1.2.3/hook",
        "https://192.168.0.10/hook",
        "https://169.254.169.254/latest/meta-data/",
        "https://[::1]/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "ftp://example.org/hook",
        "https://user:pw@example.org/hook",
    ],
)
def test_registration_refuses_private_and_odd_urls(settings, url):
    settings.WEBHOOK_ALLOW_PRIVATE_HOSTS = False
    with pytest.raises(webhooks.DomainError) as refused:
        webhooks.register_endpoint(url=url, events=["appointment.booked"])
    assert refused.value.fields.keys() == {"url"}


def test_a_send_to_a_host_that_resolves_privately_is_refused_before_connecting(settings):
    endpoint = webhooks.register_endpoint(
        url="https://localhost:9/hook", events=["appointment.booked"]
    )
    book()
    settings.WEBHOOK_ALLOW_PRIVATE_HOSTS = False
    delivery = webhooks.deliver(delivery_id=WebhookDelivery.objects.get().pk)
    assert delivery is not None
    assert delivery.last_error == "The host localhost resolves to a private or reserved address."
    assert delivery.response_status is None
    endpoint.refresh_from_db()
    assert endpoint.consecutive_failures == 1


def test_staff_register_an_endpoint_and_see_its_secret_once(receiver):
    client = APIClient()
    client.force_authenticate(StaffFactory())
    response = client.post(
        "/api/webhooks/",
        {"url": receiver.url, "events": ["appointment.booked"]},
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["secret"].startswith("whsec_")
    listed = client.get("/api/webhooks/").json()["results"]
    assert [e["url"] for e in listed] == [receiver.url]
    assert "secret" not in listed[0]


def test_an_unknown_event_type_is_refused_by_the_api(receiver):
    client = APIClient()
    client.force_authenticate(StaffFactory())
    response = client.post(
        "/api/webhooks/", {"url": receiver.url, "events": ["patient.created"]}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert "events" in response.json()["fields"]


def test_staff_can_turn_a_disabled_endpoint_back_on(receiver):
    client = APIClient()
    client.force_authenticate(StaffFactory())
    endpoint = endpoint_for(receiver)
    webhooks.disable_endpoint(endpoint=endpoint, reason="test")
    response = client.patch(f"/api/webhooks/{endpoint.pk}/", {"is_active": True}, format="json")
    assert response.status_code == 200
    assert response.json()["is_active"] is True
    assert response.json()["disabled_at"] is None


def test_a_login_that_is_not_staff_cannot_list_endpoints():
    client = APIClient()
    client.force_authenticate(UserFactory())
    assert client.get("/api/webhooks/").status_code == 403


def test_every_appointment_event_type_is_published(receiver):
    endpoint_for(receiver, events=list(webhooks.EVENT_TYPES))
    appointment = book()
    services.reschedule_appointment(appointment=appointment, start=THU_10, actor="staff")
    services.cancel_appointment(appointment=appointment, actor="staff")
    types = list(WebhookDelivery.objects.order_by("pk").values_list("event_type", flat=True))
    assert types == ["appointment.booked", "appointment.rescheduled", "appointment.cancelled"]
    rescheduled = WebhookDelivery.objects.get(event_type="appointment.rescheduled")
    assert rescheduled.payload["data"]["appointment"]["previous_start"] is not None


def test_no_payload_carries_names_phones_emails_or_clinical_text(receiver):
    from tests.scheduling.referral_helpers import offer_referral

    endpoint_for(receiver, events=list(webhooks.EVENT_TYPES))
    service = make_service(name="Medication for opioid use disorder intake")
    appointment = book(service=service)
    services.reschedule_appointment(appointment=appointment, start=THU_10, actor="staff")
    services.cancel_appointment(appointment=appointment, actor="staff", reason="Relapse worries")
    referral, _ = offer_referral([service.provider], notes="History of overdose")
    assert WebhookDelivery.objects.filter(event_type="referral.status_changed").count() == 2
    sent = json.dumps(list(WebhookDelivery.objects.values_list("payload", flat=True))).lower()
    for secret in (
        "alex",
        "rivera",
        "2125550142",
        "alex@example.net",
        "riley",
        "jordan",
        "2125550199",
        "dana",
        "whitfield",
        "opioid",
        "overdose",
        "relapse",
        "withdrawal",
        "dr. kim",
        "county ed",
    ):
        assert secret not in sent


def test_attendance_is_published_as_attended_then_no_show(receiver, clock):
    endpoint_for(receiver, events=["appointment.attended", "appointment.no_show"])
    appointment = book()
    clock.move_to(appointment.end, tick=False)
    services.record_attendance(appointment=appointment, status="attended", actor="staff")
    services.record_attendance(appointment=appointment, status="no_show", actor="staff")
    payloads = [d.payload for d in WebhookDelivery.objects.order_by("pk")]
    assert [p["type"] for p in payloads] == ["appointment.attended", "appointment.no_show"]
    assert payloads[1]["data"]["appointment"]["previous_status"] == "attended"


def test_queued_deliveries_are_split_so_each_task_ends_inside_the_cluster_timeout(settings, clock):
    settings.NOTIFICATIONS_DISPATCH = "queue"
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "timeout": 60}
    settings.WEBHOOK_TIMEOUT_SECONDS = 10  # six slow receivers would take the whole minute
    drain_queue()  # what earlier tests (or runs, on Redis) left behind

    webhooks.dispatch(list(range(1, 13)))
    clock.shift(1)  # the ORM broker hands out tasks queued before now

    chunks = [t["args"][0] for t in drain_queue() if t["func"].endswith("deliver_webhooks")]
    assert chunks == [[1, 2, 3, 4, 5], [6, 7, 8, 9, 10], [11, 12]]
