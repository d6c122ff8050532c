"""Routes of the referrals app: the API (/api/referrals/), the coordinator board, the
patient's link (/r/<token>) and the provider portal's referral inbox."""

from __future__ import annotations

from django.urls import path

from referrals import pages, views

urlpatterns = [
    path("api/referrals/", views.ReferralListCreateView.as_view(), name="referral-list"),
    path(
        "api/referrals/<str:referral_id>/",
        views.ReferralDetailView.as_view(),
        name="referral-detail",
    ),
    *(
        path(
            f"api/referrals/<str:referral_id>/{action}/", view.as_view(), name=f"referral-{action}"
        )
        for action, view in (
            ("assign", views.ReferralAssignView),
            ("accept", views.ReferralAcceptView),
            ("decline", views.ReferralDeclineView),
            ("cancel", views.ReferralCancelView),
            ("matches", views.ReferralMatchesView),
        )
    ),
    path("referrals/board/", pages.board, name="referral-board"),
    path("referrals/home/", pages.after_login, name="after-login"),
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
