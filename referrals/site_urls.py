"""Referral pages mounted at the site root: /r/<token> for patients, /portal/referrals/."""

from __future__ import annotations

from django.urls import path

from referrals import pages

urlpatterns = [
    path("r/<str:token>", pages.referral_choices, name="referral"),
    path("r/<str:token>/<slug:slug>/", pages.referral_provider, name="referral-provider"),
    path("r/<str:token>/<slug:slug>/book/", pages.referral_book, name="referral-book"),
    path("portal/referrals/", pages.inbox, name="portal-referrals"),
    path(
        "portal/referrals/<uuid:referral_id>/accept/", pages.accept, name="portal-referral-accept"
    ),
    path(
        "portal/referrals/<uuid:referral_id>/decline/",
        pages.decline,
        name="portal-referral-decline",
    ),
]
