"""Pages and feeds of the scheduling app (mounted at the site root)."""

from __future__ import annotations

from django.urls import include, path, re_path

from scheduling.calendar.views import provider_feed
from scheduling.web import (
    booking,
    find,
    group_wait,
    groups,
    manage,
    portal,
    portal_calendars,
    series,
)

urlpatterns: list = [
    # Everything under calendar/ is the feed view's: a bad path gets the same empty 404.
    re_path(r"^calendar/(?P<token>.*)$", provider_feed, name="provider-feed"),
    # Patient pages
    path("", find.find_help, name="find-help"),
    path("groups/", groups.find_group, name="find-group"),
    path("groups/<slug:slug>/wait/", group_wait.wait_for_seat, name="group-wait"),
    path("providers/<slug:slug>/", booking.provider_page, name="provider"),
    path("providers/<slug:slug>/book/", booking.book, name="book"),
    # The private manage link: GET shows, every change is a POST.
    path("m/<str:token>", manage.manage, name="manage"),
    path("m/<str:token>/booked", manage.booked, name="booked"),
    path("m/<str:token>/cancel", manage.cancel, name="cancel"),
    path("m/<str:token>/reschedule", manage.reschedule, name="reschedule"),
    path("m/<str:token>/earlier", groups.wait_for_earlier, name="wait-earlier"),
    # The private link of a waitlist entry
    path("w/<str:token>", groups.waitlist_page, name="waitlist-page"),
    path("w/<str:token>/take", groups.waitlist_take, name="waitlist-take"),
    path("w/<str:token>/leave", groups.waitlist_leave, name="waitlist-leave-page"),
    # The private link of a recurring series
    path("s/<str:token>", series.manage_series, name="series-manage"),
    path("s/<str:token>/cancel", series.cancel_series, name="series-manage-cancel"),
    # The care circle: safe contact, support persons, /resources/ (scheduling.circle)
    path("", include("scheduling.circle.urls")),
    # Provider portal
    path("portal/", portal.home, name="portal"),
    path(
        "portal/appointments/<uuid:appointment_id>/",
        portal.appointment_detail,
        name="portal-appointment",
    ),
    path(
        "portal/appointments/<uuid:appointment_id>/confirm/", portal.confirm, name="portal-confirm"
    ),
    path(
        "portal/appointments/<uuid:appointment_id>/attendance/",
        portal.attendance,
        name="portal-attendance",
    ),
    path("portal/appointments/<uuid:appointment_id>/cancel/", portal.cancel, name="portal-cancel"),
    path(
        "portal/appointments/<uuid:appointment_id>/end-series/",
        portal.end_series,
        name="portal-series-end",
    ),
    path("portal/groups/", groups.portal_groups, name="portal-groups"),
    path("portal/availability/", portal.availability, name="portal-availability"),
    path("portal/availability/hours/", portal.add_hours, name="portal-hours-add"),
    path("portal/availability/overrides/", portal.add_override, name="portal-override-add"),
    path("portal/availability/time-off/", portal.add_time_off, name="portal-time-off-add"),
    path(
        "portal/availability/<str:kind>/<int:pk>/delete/",
        portal.delete_availability,
        name="portal-availability-delete",
    ),
    path("portal/calendar/", portal_calendars.calendar, name="portal-calendar"),
    path(
        "portal/calendar/rotate/", portal_calendars.rotate_calendar, name="portal-calendar-rotate"
    ),
    path(
        "portal/calendar/sources/", portal_calendars.add_source, name="portal-calendar-source-add"
    ),
    path(
        "portal/calendar/sources/<int:pk>/remove/",
        portal_calendars.remove_source,
        name="portal-calendar-source-remove",
    ),
]
