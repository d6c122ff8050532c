"""API routes of the referrals app (mounted under /api/)."""

from __future__ import annotations

from django.urls import path

from referrals import views

urlpatterns = [
    path("referrals/", views.ReferralListCreateView.as_view(), name="referral-list"),
    path(
        "referrals/<str:referral_id>/", views.ReferralDetailView.as_view(), name="referral-detail"
    ),
    path(
        "referrals/<str:referral_id>/assign/",
        views.ReferralAssignView.as_view(),
        name="referral-assign",
    ),
    path(
        "referrals/<str:referral_id>/accept/",
        views.ReferralAcceptView.as_view(),
        name="referral-accept",
    ),
    path(
        "referrals/<str:referral_id>/decline/",
        views.ReferralDeclineView.as_view(),
        name="referral-decline",
    ),
    path(
        "referrals/<str:referral_id>/cancel/",
        views.ReferralCancelView.as_view(),
        name="referral-cancel",
    ),
    path(
        "referrals/<str:referral_id>/matches/",
        views.ReferralMatchesView.as_view(),
        name="referral-matches",
    ),
]
