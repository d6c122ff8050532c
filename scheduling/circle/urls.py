"""Pages of the care circle (mounted with the patient pages at the site root)."""

from __future__ import annotations

from django.urls import path

from scheduling.circle import views

urlpatterns: list = [
    path("resources/", views.resources, name="resources"),
    path("m/<str:token>/circle", views.circle, name="circle"),
    path("m/<str:token>/circle/contact", views.contact, name="circle-contact"),
    path("m/<str:token>/circle/people", views.add_person, name="circle-add"),
    path(
        "m/<str:token>/circle/people/<uuid:person_id>/withdraw",
        views.revoke_person,
        name="circle-revoke",
    ),
    path("m/<str:token>/rebook", views.rebook, name="rebook"),
]
