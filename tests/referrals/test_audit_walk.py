"""Every page and endpoint that shows or changes a patient's data leaves an access-log row
(issue 12): each case makes one request and looks for its row; a URL added later must be
walked here or declared free of patient data, or the last test fails."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, timedelta
from io import StringIO
from typing import Any

import pytest
import time_machine
from django.core.management import call_command
from django.urls import URLPattern, URLResolver, get_resolver

from common.tokens import derive_token, hash_token, new_salt
from referrals.links import referral_token
from scheduling.audit.models import AuditEvent
from scheduling.booking import links
from scheduling.calendar import feeds
from scheduling.models import Appointment, Patient, PatientEvent, Series
from tests.factories import proof_of, prove_in_session
from tests.referrals.audit_world import FRI_10, NOW, WED_14, World
from tests.scheduling.pages_helpers import form_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    with time_machine.travel(NOW, tick=False):
        yield World()


def _booking_body(w: World) -> dict[str, Any]:
    return {
        "provider": w.provider.slug,
        "service": w.service.slug,
        "start": WED_14.isoformat(),
        "patient": {
            "name": "Alex Rivera",
            "phone": w.patient.phone,
            "timezone": "America/New_York",
            "state": "NY",
        },
        "sms_consent": True,
        "verification": proof_of(w.patient.phone),
    }


def _book_by_form(w: World) -> Any:
    client = w.page()
    prove_in_session(client, w.patient.phone)
    return client.post(f"/providers/{w.provider.slug}/book/", form_data(w.service, WED_14))


def _referral_form(w: World) -> Any:
    start = WED_14.astimezone(UTC).isoformat()
    path = f"/r/{referral_token(w.referral)}/{w.provider.slug}/book/"
    return w.page().get(path, {"service": w.service.slug, "state": "NY", "start": start})


def _admin(path: str) -> Callable[[World], Any]:
    return lambda w: w.page(w.staff).get(path.format(w=w))


def _command(w: World) -> Any:
    call_command("audit_report", "--patient", w.patient.phone, stdout=StringIO())


def _series_url(w: World, what: str) -> tuple[str, dict[str, str]]:
    """A two-visit series made of the world's appointment; its URL and its token."""
    salt = new_salt()
    series = Series(
        provider=w.provider,
        service=w.service,
        patient=w.patient,
        first_start=w.appointment.start,
        every_weeks=1,
        count=2,
        manage_token_salt=salt,
    )
    series.manage_token_hash = hash_token(derive_token("series", series.id, salt))
    series.save()
    Appointment.objects.filter(pk=w.appointment.pk).update(
        series=series, series_start=w.appointment.start
    )
    return f"/api/series/{series.pk}/{what}", {"token": links.series_token(series)}


def _cancel_series(w: World) -> Any:
    url, query = _series_url(w, "cancel/")
    body = {"from": w.appointment.start.isoformat(), **query}
    return w.api().post(url, body, format="json")


def _move_series(w: World) -> Any:
    url, query = _series_url(w, "move/")
    to = w.appointment.start + timedelta(hours=1)
    body = {"from": w.appointment.start.isoformat(), "start": to.isoformat(), **query}
    return w.api().post(url, body, format="json")


def _waitlist_entry(w: World) -> Any:
    """The world's patient waiting for a time before their visit, with a place held."""
    from datetime import timedelta

    from scheduling.booking.waitlist.links import entry_token, new_token_fields
    from scheduling.booking.waitlist.models import WaitlistEntry, WaitlistOffer

    entry_id = uuid.uuid4()
    entry = WaitlistEntry.objects.create(
        id=entry_id,
        provider=w.provider,
        service=w.service,
        patient=w.patient,
        before=FRI_10 + timedelta(days=1),
        appointment=w.appointment,
        status="offered",
        created_at=NOW,
        **new_token_fields(entry_id),
    )
    start = FRI_10  # a free time (the reschedule case moves the visit there)
    WaitlistOffer.objects.create(
        entry=entry,
        provider=w.provider,
        service=w.service,
        start=start,
        blocked_start=start,
        blocked_end=start + timedelta(hours=1),
        expires_at=NOW + timedelta(minutes=30),
        created_at=NOW,
    )
    return entry, {"token": entry_token(entry)}


def _waitlist_join(w: World) -> Any:
    body = {
        "provider": w.provider.slug,
        "service": w.service.slug,
        "before": w.appointment.start.isoformat(),
        "patient": {
            "name": "Alex",
            "phone": w.patient.phone,
            "timezone": "America/New_York",
            "state": "NY",
        },
        "sms_consent": True,
        "token": w.token,
    }
    return w.api().post("/api/waitlist/", body, format="json")


def _group_roster(w: World) -> Any:
    type(w.service).objects.filter(pk=w.service.pk).update(capacity=2)
    return w.page(w.provider.user).get("/portal/groups/")


def _waitlist_call(w: World, method: str, what: str) -> Any:
    entry, query = _waitlist_entry(w)
    url = f"/api/waitlist/{entry.pk}/{what}?token={query['token']}"
    return getattr(w.api(), method)(url)


_LINK_VIEW = ("view", "link", "patient")
_LINK_CHANGE = ("change", "link", "patient")


def _person(w: World) -> Any:
    from scheduling.circle.support import add_support_person

    return add_support_person(
        patient=w.patient,
        name="Jo",
        phone="+12125550199",
        relationship="sister",
        until=NOW + timedelta(days=30),
        source="test",
    )


def _add_person_by_form(w: World) -> Any:
    data = {
        "name": "Jo",
        "phone": "+12125550199",
        "relationship": "sister",
        "until": (NOW + timedelta(days=30)).date().isoformat(),
        "consent": "on",
    }
    return w.page().post(f"/m/{w.token}/circle/people", data)


def _withdraw_by_form(w: World) -> Any:
    return w.page().post(f"/m/{w.token}/circle/people/{_person(w).pk}/withdraw")


def _api_url(w: World, what: str) -> str:
    return f"/api/appointments/{w.appointment.pk}/{what}"


# (case, URL name walked, request, action, channel, whose record: "patient" or "referral")
CASES: list[tuple[str, str, Callable[[World], Any], str, str, str]] = [
    # The appointment API
    (
        "book by the API",
        "appointment-create",
        lambda w: w.api().post("/api/appointments/", _booking_body(w), format="json"),
        "change",
        "api",
        "patient",
    ),
    (
        "show by the API with the token",
        "appointment-detail",
        lambda w: w.api().get(_api_url(w, ""), {"token": w.token}),
        "view",
        "api",
        "patient",
    ),
    (
        "show by the API to the provider",
        "appointment-detail",
        lambda w: w.api(w.provider.user).get(_api_url(w, "")),
        "view",
        "api",
        "patient",
    ),
    (
        "cancel by the API",
        "appointment-cancel",
        lambda w: w.api().post(_api_url(w, "cancel/"), {"token": w.token}, format="json"),
        "change",
        "api",
        "patient",
    ),
    (
        "reschedule by the API",
        "appointment-reschedule",
        lambda w: w.api(w.staff).post(
            _api_url(w, "reschedule/"), {"start": FRI_10.isoformat()}, format="json"
        ),
        "change",
        "api",
        "patient",
    ),
    (
        "confirm by the API",
        "appointment-confirm",
        lambda w: w.api(w.provider.user).post(f"/api/appointments/{w.requested.pk}/confirm/"),
        "change",
        "api",
        "patient",
    ),
    (
        "attendance by the API",
        "appointment-attendance",
        lambda w: w.api(w.provider.user).post(
            f"/api/appointments/{w.past.pk}/attendance/", {"status": "attended"}, format="json"
        ),
        "change",
        "api",
        "patient",
    ),
    (
        "the invite download",
        "appointment-invite",
        lambda w: w.api().get(_api_url(w, "invite.ics"), {"token": w.token}),
        "export",
        "calendar",
        "patient",
    ),
    (
        "join a waitlist by the API",
        "waitlist-join",
        _waitlist_join,
        "change",
        "api",
        "patient",
    ),
    (
        "show a waitlist entry by the API",
        "waitlist-detail",
        lambda w: _waitlist_call(w, "get", ""),
        "view",
        "api",
        "patient",
    ),
    (
        "leave a waitlist by the API",
        "waitlist-leave",
        lambda w: _waitlist_call(w, "post", "leave/"),
        "change",
        "api",
        "patient",
    ),
    (
        "take a waitlist offer by the API",
        "waitlist-accept",
        lambda w: _waitlist_call(w, "post", "accept/"),
        "change",
        "api",
        "patient",
    ),
    (
        "the waitlist's private page",
        "waitlist-page",
        lambda w: w.page().get(f"/w/{_waitlist_entry(w)[1]['token']}"),
        "view",
        "link",
        "patient",
    ),
    (
        "take a waitlist offer on its page",
        "waitlist-take",
        lambda w: w.page().post(f"/w/{_waitlist_entry(w)[1]['token']}/take"),
        "change",
        "link",
        "patient",
    ),
    (
        "leave a waitlist on its page",
        "waitlist-leave-page",
        lambda w: w.page().post(f"/w/{_waitlist_entry(w)[1]['token']}/leave"),
        "change",
        "link",
        "patient",
    ),
    (
        "wait for an earlier time from a visit's page",
        "wait-earlier",
        lambda w: w.page().post(f"/m/{w.token}/earlier"),
        "change",
        "link",
        "patient",
    ),
    (
        "the group roster in the portal",
        "portal-groups",
        lambda w: _group_roster(w),
        "list",
        "portal",
        "patient",
    ),
    (
        "show a series by the API",
        "series-detail",
        lambda w: w.api().get(*_series_url(w, "")),
        "view",
        "api",
        "patient",
    ),
    (
        "cancel a series from a visit on",
        "series-cancel",
        lambda w: _cancel_series(w),
        "change",
        "api",
        "patient",
    ),
    (
        "move a series from a visit on",
        "series-move",
        lambda w: _move_series(w),
        "change",
        "api",
        "patient",
    ),
    (
        "the series invite download",
        "series-invite",
        lambda w: w.api().get(*_series_url(w, "invite.ics")),
        "export",
        "calendar",
        "patient",
    ),
    (
        "the series page",
        "series-manage",
        lambda w: w.page().get(f"/s/{_series_url(w, '')[1]['token']}"),
        "view",
        "link",
        "patient",
    ),
    (
        "cancel a series from the page",
        "series-manage-cancel",
        lambda w: w.page().post(
            f"/s/{_series_url(w, '')[1]['token']}/cancel",
            {"from": w.appointment.start.isoformat()},
        ),
        "change",
        "link",
        "patient",
    ),
    (
        "the provider's calendar feed",
        "provider-feed",
        lambda w: w.page().get(f"/calendar/{feeds.feed_token(provider=w.provider)}.ics"),
        "export",
        "calendar",
        "patient",
    ),
    # The patient's private link and the booking form
    (
        "the manage page",
        "manage",
        lambda w: w.page().get(f"/m/{w.token}"),
        "view",
        "link",
        "patient",
    ),
    (
        "the confirmation page",
        "booked",
        lambda w: w.page().get(f"/m/{w.token}/booked"),
        "view",
        "link",
        "patient",
    ),
    (
        "the reschedule picker",
        "reschedule",
        lambda w: w.page().get(f"/m/{w.token}/reschedule"),
        "view",
        "link",
        "patient",
    ),
    (
        "a reschedule from the link",
        "reschedule",
        lambda w: w.page().post(
            f"/m/{w.token}/reschedule", {"start": FRI_10.astimezone(UTC).isoformat()}
        ),
        "change",
        "link",
        "patient",
    ),
    (
        "a cancellation from the link",
        "cancel",
        lambda w: w.page().post(f"/m/{w.token}/cancel", {"reason": ""}),
        "change",
        "link",
        "patient",
    ),
    ("a booking by the form", "book", _book_by_form, "change", "page", "patient"),
    # The care circle (issue 15): the private link's page and API
    ("the circle page", "circle", lambda w: w.page().get(f"/m/{w.token}/circle"), *_LINK_VIEW),
    (
        "safe-contact choices from the link",
        "circle-contact",
        lambda w: w.page().post(f"/m/{w.token}/circle/contact", {"texts_ok": "on"}),
        "change",
        "link",
        "patient",
    ),
    ("a support person from the link", "circle-add", _add_person_by_form, *_LINK_CHANGE),
    ("a withdrawn consent from the link", "circle-revoke", _withdraw_by_form, *_LINK_CHANGE),
    (
        "the check-in's rebook link",
        "rebook",
        lambda w: w.page().get(f"/m/{w.token}/rebook"),
        *_LINK_VIEW,
    ),
    (
        "safe-contact choices by the API",
        "patient-contact",
        lambda w: w.api().get(f"/api/patients/me/contact/?token={w.token}"),
        "view",
        "api",
        "patient",
    ),
    (
        "support persons by the API",
        "patient-support-persons",
        lambda w: w.api().get(f"/api/patients/me/support-persons/?token={w.token}"),
        "view",
        "api",
        "patient",
    ),
    (
        "a withdrawn consent by the API",
        "patient-support-person-withdraw",
        lambda w: w.api().post(
            f"/api/patients/me/support-persons/{_person(w).pk}/withdraw/?token={w.token}"
        ),
        "change",
        "api",
        "patient",
    ),
    (
        "disclosures by the API",
        "patient-disclosures",
        lambda w: w.api().get(f"/api/patients/me/disclosures/?token={w.token}"),
        "view",
        "api",
        "patient",
    ),
    # The provider portal
    (
        "the portal's week",
        "portal",
        lambda w: w.page(w.provider.user).get("/portal/"),
        "list",
        "portal",
        "patient",
    ),
    (
        "a visit in the portal",
        "portal-appointment",
        lambda w: w.page(w.provider.user).get(f"/portal/appointments/{w.appointment.pk}/"),
        "view",
        "portal",
        "patient",
    ),
    (
        "a confirmation in the portal",
        "portal-confirm",
        lambda w: w.page(w.provider.user).post(f"/portal/appointments/{w.requested.pk}/confirm/"),
        "change",
        "portal",
        "patient",
    ),
    (
        "attendance in the portal",
        "portal-attendance",
        lambda w: w.page(w.provider.user).post(
            f"/portal/appointments/{w.past.pk}/attendance/", {"status": "no_show"}
        ),
        "change",
        "portal",
        "patient",
    ),
    (
        "a cancellation in the portal",
        "portal-cancel",
        lambda w: w.page(w.provider.user).post(f"/portal/appointments/{w.appointment.pk}/cancel/"),
        "change",
        "portal",
        "patient",
    ),
    (
        "ending a series in the portal",
        "portal-series-end",
        lambda w: (
            _series_url(w, ""),
            w.page(w.provider.user).post(f"/portal/appointments/{w.appointment.pk}/end-series/"),
        )[1],
        "change",
        "portal",
        "patient",
    ),
    (
        "the portal's referral inbox",
        "portal-referrals",
        lambda w: w.page(w.provider.user).get("/portal/referrals/"),
        "list",
        "portal",
        "referral",
    ),
    (
        "a referral accepted in the portal",
        "portal-referral-accept",
        lambda w: w.page(w.provider.user).post(f"/portal/referrals/{w.referral.pk}/accept/"),
        "change",
        "portal",
        "referral",
    ),
    (
        "a referral declined in the portal",
        "portal-referral-decline",
        lambda w: w.page(w.provider.user).post(
            f"/portal/referrals/{w.referral.pk}/decline/", {"reason": "Full this month"}
        ),
        "change",
        "portal",
        "referral",
    ),
    # The referral API, board and link
    (
        "the referral list",
        "referral-list",
        lambda w: w.api(w.coordinator).get("/api/referrals/"),
        "list",
        "api",
        "referral",
    ),
    (
        "a referral by the API",
        "referral-detail",
        lambda w: w.api(w.coordinator).get(f"/api/referrals/{w.referral.pk}/"),
        "view",
        "api",
        "referral",
    ),
    (
        "a referral assigned by the API",
        "referral-assign",
        lambda w: w.api(w.coordinator).post(
            f"/api/referrals/{w.referral.pk}/assign/", {"provider": w.provider.slug}, format="json"
        ),
        "change",
        "api",
        "referral",
    ),
    (
        "a referral accepted by the API",
        "referral-accept",
        lambda w: w.api(w.provider.user).post(f"/api/referrals/{w.referral.pk}/accept/"),
        "change",
        "api",
        "referral",
    ),
    (
        "a referral declined by the API",
        "referral-decline",
        lambda w: w.api(w.provider.user).post(
            f"/api/referrals/{w.referral.pk}/decline/", {"reason": "Full"}, format="json"
        ),
        "change",
        "api",
        "referral",
    ),
    (
        "a referral cancelled by the API",
        "referral-cancel",
        lambda w: w.api(w.coordinator).post(f"/api/referrals/{w.referral.pk}/cancel/"),
        "change",
        "api",
        "referral",
    ),
    (
        "a referral's matches",
        "referral-matches",
        lambda w: w.api(w.coordinator).get(f"/api/referrals/{w.referral.pk}/matches/"),
        "view",
        "api",
        "referral",
    ),
    (
        "the referral board",
        "referral-board",
        lambda w: w.page(w.coordinator).get("/referrals/board/"),
        "list",
        "board",
        "referral",
    ),
    (
        "the referral link",
        "referral",
        lambda w: w.page().get(f"/r/{referral_token(w.referral)}"),
        "view",
        "link",
        "referral",
    ),
    (
        "the referral's booking form",
        "referral-book",
        _referral_form,
        "view",
        "link",
        "referral",
    ),
    # The admin
    *(
        (f"the admin {what}", "admin", _admin(path), action, "admin", whose)
        for what, path, action, whose in (
            ("patient list", "/admin/scheduling/patient/", "list", "patient"),
            ("patient", "/admin/scheduling/patient/{w.patient.pk}/change/", "view", "patient"),
            ("appointment list", "/admin/scheduling/appointment/", "list", "patient"),
            (
                "appointment",
                "/admin/scheduling/appointment/{w.appointment.pk}/change/",
                "view",
                "patient",
            ),
            ("referral list", "/admin/referrals/referral/", "list", "referral"),
            ("referral", "/admin/referrals/referral/{w.referral.pk}/change/", "view", "referral"),
            (
                "referral history",
                "/admin/referrals/referral/{w.referral.pk}/history/",
                "view",
                "referral",
            ),
            (
                "referral version",
                "/admin/referrals/referral/{w.referral.pk}/history/{w.referral_version}/",
                "view",
                "referral",
            ),
            ("message list", "/admin/notifications/notification/", "list", "patient"),
            (
                "message",
                "/admin/notifications/notification/{w.notification.pk}/change/",
                "view",
                "patient",
            ),
            ("reply list", "/admin/notifications/inboundmessage/", "list", "patient"),
            (
                "reply",
                "/admin/notifications/inboundmessage/{w.inbound.pk}/change/",
                "view",
                "patient",
            ),
            ("stored answer list", "/admin/scheduling/idempotencykey/", "list", "patient"),
            (
                "stored answer",
                "/admin/scheduling/idempotencykey/{w.stored.pk}/change/",
                "view",
                "patient",
            ),
        )
    ),
    ("the accounting command", "", _command, "export", "command", "patient"),
    # The FHIR facade
    (
        "read an appointment by FHIR",
        "fhir-appointment",
        lambda w: w.api(w.staff).get(f"/fhir/Appointment/{w.appointment.pk}"),
        "view",
        "api",
        "patient",
    ),
    (
        "search appointments by FHIR",
        "fhir-appointment-search",
        lambda w: w.api(w.staff).get("/fhir/Appointment", {"patient": w.patient.pk}),
        "list",
        "api",
        "patient",
    ),
    (
        "read a referral by FHIR",
        "fhir-servicerequest",
        lambda w: w.api(w.coordinator).get(f"/fhir/ServiceRequest/{w.referral.pk}"),
        "view",
        "api",
        "referral",
    ),
    (
        "search referrals by FHIR",
        "fhir-servicerequest-search",
        lambda w: w.api(w.coordinator).get("/fhir/ServiceRequest"),
        "list",
        "api",
        "referral",
    ),
    (
        "read a referral's task by FHIR",
        "fhir-task",
        lambda w: w.api(w.coordinator).get(f"/fhir/Task/{w.referral.pk}"),
        "view",
        "api",
        "referral",
    ),
    (
        "search tasks by FHIR",
        "fhir-task-search",
        lambda w: w.api(w.coordinator).get("/fhir/Task"),
        "list",
        "api",
        "referral",
    ),
]


@pytest.mark.parametrize(
    ("request_", "action", "channel", "whose"),
    [
        pytest.param(call, action, channel, whose, id=case)
        for case, _, call, action, channel, whose in CASES
    ],
)
def test_each_access_to_a_patients_data_leaves_an_audit_row(
    world, request_, action, channel, whose
):
    with time_machine.travel(NOW, tick=False):
        response = request_(world)
    if response is not None:
        assert response.status_code < 400, getattr(response, "content", b"")[:300]
    rows = AuditEvent.objects.filter(action=action, channel=channel)
    if whose == "patient":
        assert rows.filter(patient=world.patient).exists(), list(AuditEvent.objects.values())
    else:
        assert rows.filter(object_type="referral", object_id=str(world.referral.pk)).exists()


def _url_names(patterns: list[Any], namespace: str = "") -> set[str]:
    names: set[str] = set()
    for entry in patterns:
        if isinstance(entry, URLResolver):
            if entry.namespace == "admin":
                names.add("admin")
                continue
            names |= _url_names(entry.url_patterns, entry.namespace or namespace)
        elif isinstance(entry, URLPattern):
            names.add(entry.name or str(entry.pattern))
    return names


# Pages and endpoints that show no patient's data: the directory, slots, sign-in, schema,
# the webhooks (they answer Twilio), phone verification (a number the visitor typed), the
# development outbox (DEBUG only), and the portal's own availability and feed settings.
NO_PATIENT_DATA = {
    "healthz",
    "resources",  # crisis lines and meeting finders, the same for everyone
    "metrics",  # counts by route pattern and outcome; no record, name or token
    "admin/login/",
    "login",
    "logout",
    "password_change",
    "password_change_done",
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
    "mfa-setup",  # the signed-in person's own authenticator, no one else's data
    "mfa-verify",
    "schema",
    "api-docs",
    "provider-list",
    "provider-detail",
    "provider-slots",
    "group-list",  # group sessions, meetings and seat counts; no seat-holder
    "find-group",
    # The form and its code step show only what the visitor typed; joining leads on to
    # the entry's private page (waitlist-page, walked).
    "group-wait",
    "provider-calendars",  # the provider's own calendars and busy counts, no patient's data
    "directory-import",
    "find-help",
    "provider",
    "referral-provider",
    "after-login",
    "portal-availability",
    "portal-hours-add",
    "portal-override-add",
    "portal-time-off-add",
    "portal-availability-delete",
    "portal-calendar",
    "portal-calendar-rotate",
    "portal-calendar-source-add",  # the provider's own calendars, no patient's data
    "portal-calendar-source-remove",
    "twilio-inbound-sms",
    "twilio-status",
    "dev-sms",
    "verification-start",
    "verification-check",
    "webhook-list",  # endpoint URLs and event types; payloads carry no patient data
    "webhook-detail",
    # The FHIR directory and computed slots: no patient data.
    "fhir-metadata",
    "oauth2-token",  # client credentials: a token for a system, no patient data
    "fhir-practitioner",
    "fhir-practitioner-search",
    "fhir-practitionerrole",
    "fhir-practitionerrole-search",
    "fhir-healthcareservice",
    "fhir-healthcareservice-search",
    "fhir-schedule",
    "fhir-schedule-search",
    "fhir-slot",
    "fhir-slot-search",
}


def test_every_url_is_walked_or_shows_no_patient_data():
    walked = {name for _, name, *_ in CASES if name}
    every = _url_names(get_resolver().url_patterns)
    assert every - walked - NO_PATIENT_DATA == set(), "walk the new URL above, or list it"
    assert (walked | NO_PATIENT_DATA) - every == set(), "a listed URL no longer exists"


def test_an_admin_edit_of_a_patient_keeps_old_and_new_values_in_their_timeline(world):
    admin = world.page(world.staff)
    path = f"/admin/scheduling/patient/{world.patient.pk}/change/"
    fields = {
        "name": "Alex Rivers",
        "phone": world.patient.phone,
        "email": world.patient.email,
        "timezone": "America/Chicago",
        "state": "NY",
        "sms_consent": "on",
    }
    assert admin.post(path, fields).status_code == 302

    row = AuditEvent.objects.get(action="change", patient=world.patient)
    assert row.changes == {"name": "changed", "timezone": ["America/New_York", "America/Chicago"]}
    event = PatientEvent.objects.get(patient=world.patient, kind="edited")
    assert event.data["name"] == [world.patient.name, "Alex Rivers"]
    assert Patient.objects.get(pk=world.patient.pk).timezone == "America/Chicago"


def test_a_referral_not_yet_booked_is_logged_by_the_referral_alone(world):
    world.api(world.coordinator).get(f"/api/referrals/{world.referral.pk}/")
    row = AuditEvent.objects.get()
    assert (row.patient_id, row.object_type, row.object_id) == (
        None,
        "referral",
        str(world.referral.pk),
    )
    assert (row.role, row.organization_id) == ("coordinator", world.organization.pk)
