"""Staff register webhook endpoints and resend deliveries from the admin."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from notifications import webhooks
from notifications.models import WebhookDelivery, WebhookDeliveryStatus, WebhookEndpoint
from tests.factories import UserFactory
from tests.notifications.conftest import book

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client() -> Client:
    client = Client()
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


def form(**overrides: Any) -> dict[str, Any]:
    return {
        "url": "https://93.184.215.14/hooks",
        "description": "County warehouse",
        "events": ["referral.status_changed"],
        "secret": "",
        "is_active": "on",
        **overrides,
    }


def test_an_endpoint_added_in_the_admin_gets_a_secret(admin_client):
    response = admin_client.post("/admin/notifications/webhookendpoint/add/", form())
    assert response.status_code == 302, response.content[:2000]
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.secret.startswith("whsec_")
    assert endpoint.events == ["referral.status_changed"]


def test_the_admin_refuses_an_endpoint_on_a_private_address(admin_client):
    response = admin_client.post(
        "/admin/notifications/webhookendpoint/add/", form(url="https://10.0.0.5/hooks")
    )
    assert response.status_code == 200
    assert b"private or reserved address" in response.content
    assert not WebhookEndpoint.objects.exists()


def test_the_delivery_log_resends_a_failed_delivery(admin_client, settings, clock):
    settings.WEBHOOK_ALLOW_PRIVATE_HOSTS = True
    settings.NOTIFICATIONS_DISPATCH = "queue"  # the resend is only queued here
    endpoint = webhooks.register_endpoint(url="http://127.0.0.1:9/", events=["appointment.booked"])
    book()
    WebhookDelivery.objects.update(status=WebhookDeliveryStatus.FAILED, attempts=8)
    delivery = WebhookDelivery.objects.get()
    assert (
        admin_client.get(
            f"/admin/notifications/webhookdelivery/?endpoint__id__exact={endpoint.pk}"
        ).status_code
        == 200
    )
    response = admin_client.post(
        "/admin/notifications/webhookdelivery/",
        {"action": "resend", "_selected_action": [delivery.pk]},
    )
    assert response.status_code == 302
    delivery.refresh_from_db()
    assert delivery.status == WebhookDeliveryStatus.PENDING
    assert delivery.attempts == 0
