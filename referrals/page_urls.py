"""Pages of the referrals app (mounted at /referrals/)."""

from __future__ import annotations

from django.urls import path

from referrals import views

urlpatterns = [
    path("board/", views.board, name="referral-board"),
    path("home/", views.after_login, name="after-login"),
]
