from __future__ import annotations

from django.urls import path

from common.mfa import views

urlpatterns = [
    path("", views.verify, name="mfa-verify"),
    path("setup/", views.setup, name="mfa-setup"),
]
