"""Pages and feeds of the scheduling app (mounted at the site root)."""

from __future__ import annotations

from django.urls import path  # noqa: F401

from scheduling.feed_views import provider_feed

urlpatterns: list = [
    path("calendar/<str:token>.ics", provider_feed, name="provider-feed"),
]
