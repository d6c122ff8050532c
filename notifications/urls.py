"""Twilio webhooks, the development SMS outbox, phone verification and outbound webhook
endpoints (at the site root)."""

from __future__ import annotations

from django.urls import path

from notifications import api, views, webhooks_api

urlpatterns = [
    path("webhooks/twilio/sms/", views.inbound_sms, name="twilio-inbound-sms"),
    path("webhooks/twilio/status/", views.delivery_status, name="twilio-status"),
    path("dev/sms/", views.dev_sms_outbox, name="dev-sms"),
    path("api/verifications/", api.VerificationStartView.as_view(), name="verification-start"),
    path(
        "api/verifications/<str:verification_id>/check/",
        api.VerificationCheckView.as_view(),
        name="verification-check",
    ),
    path("api/webhooks/", webhooks_api.WebhookEndpointListView.as_view(), name="webhook-list"),
    path(
        "api/webhooks/<int:endpoint_id>/",
        webhooks_api.WebhookEndpointDetailView.as_view(),
        name="webhook-detail",
    ),
]
