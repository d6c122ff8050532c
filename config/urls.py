from __future__ import annotations

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from common.views import healthz

urlpatterns = [
    path("healthz/", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api/", include("referrals.urls")),
    path("referrals/", include("referrals.page_urls")),
    path("api/", include("scheduling.urls")),
    path("", include("notifications.urls")),
    path("", include("scheduling.page_urls")),
    # The patient's referral link (/r/<token>) and the portal's referral inbox.
    path("", include("referrals.site_urls")),
]
