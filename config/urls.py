from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from oauth2_provider import views as oauth2_views

from common.limits import limit_posts, posted_email
from common.metrics import metrics_view
from common.views import healthz, only_when

urlpatterns = [
    path("healthz/", healthz, name="healthz"),
    path("metrics/", metrics_view, name="metrics"),
    # Sign-in and password reset forms are limited per address before Django's own views.
    path("admin/login/", limit_posts("login", "LOGIN_RATE_LIMIT")(admin.site.login)),
    path(
        "accounts/login/",
        limit_posts("login", "LOGIN_RATE_LIMIT")(auth_views.LoginView.as_view()),
        name="login",
    ),
    # ... and per account named, so no one floods one person's inbox from many addresses.
    path(
        "accounts/password_reset/",
        limit_posts("password-reset", "PASSWORD_RESET_RATE_LIMIT")(
            limit_posts(
                "password-reset-account",
                "PASSWORD_RESET_ACCOUNT_RATE_LIMIT",
                identify=posted_email,
            )(auth_views.PasswordResetView.as_view())
        ),
        name="password_reset",
    ),
    path("accounts/mfa/", include("common.mfa.urls")),
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    # The split view loads its start-up script from a URL, as the CSP allows no inline script.
    path("api/schema/", only_when("API_DOCS_ENABLED")(SpectacularAPIView.as_view()), name="schema"),
    path(
        "api/docs/",
        only_when("API_DOCS_ENABLED")(
            SpectacularSwaggerSplitView.as_view(
                url_name="schema", template_name="api/swagger_ui.html"
            )
        ),
        name="api-docs",
    ),
    path("fhir/", include("fhir.urls")),
    # OAuth2 client credentials for FHIR clients (fhir.auth): the token endpoint alone.
    path("o/token/", oauth2_views.TokenView.as_view(), name="oauth2-token"),
    path("", include("referrals.urls")),
    path("api/", include("scheduling.urls")),
    path("", include("scheduling.web.urls")),
    path("", include("notifications.urls")),
]
