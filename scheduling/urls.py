"""API routes of the scheduling app (mounted under /api/)."""

from __future__ import annotations

from django.urls import include, path

from scheduling.booking.groups import GroupListView
from scheduling.booking.series_views import SeriesCancelView, SeriesDetailView, SeriesMoveView
from scheduling.booking.views import (
    AppointmentAttendanceView,
    AppointmentCancelView,
    AppointmentConfirmView,
    AppointmentCreateView,
    AppointmentDetailView,
    AppointmentRescheduleView,
)
from scheduling.booking.waitlist.api import (
    WaitlistAcceptView,
    WaitlistDetailView,
    WaitlistJoinView,
    WaitlistLeaveView,
)
from scheduling.calendar.sources_api import ProviderCalendarsView
from scheduling.calendar.views import AppointmentInviteView, SeriesInviteView
from scheduling.directory.views import (
    DirectoryImportView,
    ProviderDetailView,
    ProviderListView,
    ProviderSlotsView,
)

urlpatterns: list = [
    path("providers/", ProviderListView.as_view(), name="provider-list"),
    path("providers/<str:slug>/", ProviderDetailView.as_view(), name="provider-detail"),
    path("providers/<str:slug>/slots/", ProviderSlotsView.as_view(), name="provider-slots"),
    path(
        "providers/<str:slug>/calendars/",
        ProviderCalendarsView.as_view(),
        name="provider-calendars",
    ),
    path("appointments/", AppointmentCreateView.as_view(), name="appointment-create"),
    path(
        "appointments/<str:appointment_id>/",
        AppointmentDetailView.as_view(),
        name="appointment-detail",
    ),
    path(
        "appointments/<str:appointment_id>/cancel/",
        AppointmentCancelView.as_view(),
        name="appointment-cancel",
    ),
    path(
        "appointments/<str:appointment_id>/reschedule/",
        AppointmentRescheduleView.as_view(),
        name="appointment-reschedule",
    ),
    path(
        "appointments/<str:appointment_id>/confirm/",
        AppointmentConfirmView.as_view(),
        name="appointment-confirm",
    ),
    path(
        "appointments/<str:appointment_id>/attendance/",
        AppointmentAttendanceView.as_view(),
        name="appointment-attendance",
    ),
    path(
        "appointments/<str:appointment_id>/invite.ics",
        AppointmentInviteView.as_view(),
        name="appointment-invite",
    ),
    path("series/<str:series_id>/", SeriesDetailView.as_view(), name="series-detail"),
    path("series/<str:series_id>/cancel/", SeriesCancelView.as_view(), name="series-cancel"),
    path("series/<str:series_id>/move/", SeriesMoveView.as_view(), name="series-move"),
    path("series/<str:series_id>/invite.ics", SeriesInviteView.as_view(), name="series-invite"),
    path("groups/", GroupListView.as_view(), name="group-list"),
    path("waitlist/", WaitlistJoinView.as_view(), name="waitlist-join"),
    path("waitlist/<str:entry_id>/", WaitlistDetailView.as_view(), name="waitlist-detail"),
    path("waitlist/<str:entry_id>/leave/", WaitlistLeaveView.as_view(), name="waitlist-leave"),
    path("waitlist/<str:entry_id>/accept/", WaitlistAcceptView.as_view(), name="waitlist-accept"),
    path("directory/import/", DirectoryImportView.as_view(), name="directory-import"),
    path("", include("scheduling.circle.api_urls")),
]
