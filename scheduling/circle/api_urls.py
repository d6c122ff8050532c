"""API routes of the care circle (mounted under /api/ with the scheduling API)."""

from __future__ import annotations

from django.urls import path

from scheduling.circle import api

urlpatterns: list = [
    path("patients/me/contact/", api.ContactPreferenceView.as_view(), name="patient-contact"),
    path(
        "patients/me/support-persons/",
        api.SupportPersonListView.as_view(),
        name="patient-support-persons",
    ),
    path(
        "patients/me/support-persons/<uuid:person_id>/withdraw/",
        api.SupportPersonWithdrawView.as_view(),
        name="patient-support-person-withdraw",
    ),
    path("patients/me/disclosures/", api.DisclosureListView.as_view(), name="patient-disclosures"),
]
