"""Twilio webhooks and the development SMS outbox (mounted at the site root)."""

from __future__ import annotations

from django.urls import path

from notifications import views

urlpatterns = [
    path("webhooks/twilio/sms/", views.inbound_sms, name="twilio-inbound-sms"),
    path("webhooks/twilio/status/", views.delivery_status, name="twilio-status"),
    path("dev/sms/", views.dev_sms_outbox, name="dev-sms"),
]
