"""Nobody but the facilitator and staff sees who else holds a seat: every answer, page,
file and message a seat-holder can get is searched for the others' aliases and numbers."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client
from rest_framework.test import APIClient

from common.crypto import blind_index
from notifications.models import Notification
from scheduling.booking.services import cancel_appointment
from scheduling.booking.waitlist import offers
from scheduling.models import Appointment
from tests.factories import UserFactory, as_sent, proof_of
from tests.scheduling.waitlist_helpers import NOW, TUE_18, group_service

pytestmark = pytest.mark.django_db

# (alias, phone, email): three seat-holders of one meeting, and one who waits for a seat.
PEOPLE = [
    ("Moonbeam", "+12125552101", "moonbeam@example.net"),
    ("Quietfox", "+12125552102", ""),
    ("Riverstone", "+12125552103", "river@example.net"),
    ("Sparrowhawk", "+12125552104", "sparrow@example.net"),
]


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def _patient(alias: str, phone: str, email: str) -> dict[str, Any]:
    body = {"name": alias, "phone": phone, "timezone": "America/New_York", "state": "NY"}
    return {**body, "email": email} if email else body


def _book(service: Any, person: tuple[str, str, str]) -> dict[str, Any]:
    alias, phone, email = person
    answer = APIClient().post(
        "/api/appointments/",
        {
            "provider": service.provider.slug,
            "service": service.slug,
            "start": TUE_18.isoformat(),
            "patient": _patient(alias, phone, email),
            "sms_consent": True,
            "verification": proof_of(phone),
        },
        format="json",
    )
    assert answer.status_code == 201, answer.content
    return answer.json()


def _traces(person: tuple[str, str, str]) -> list[str]:
    alias, phone, email = person
    local = phone[-7:]
    traces = [alias, phone, phone[2:], f"{local[:3]}-{local[3:]}", f"{local[:3]} {local[3:]}"]
    return [*traces, email] if email else traces


def _messages_to(*recipients: str) -> list[Notification]:
    keys = [blind_index(r) for r in recipients if r]
    return list(Notification.objects.filter(recipient_hash__in=keys))


def _everything_for(person: tuple[str, str, str], booked: dict[str, Any], service: Any) -> str:
    """Every answer, page and file this seat-holder can get, and every message to them."""
    alias, phone, email = person
    token = booked["manage_url"].rsplit("/", 1)[-1]
    api, page = APIClient(), Client()
    slug = service.provider.slug
    got = [
        str(booked),
        api.get(f"/api/appointments/{booked['id']}/", {"token": token}).content.decode(),
        api.get(f"/api/appointments/{booked['id']}/invite.ics", {"token": token}).content.decode(),
        page.get(f"/m/{token}").content.decode(),
        page.get(f"/m/{token}/booked").content.decode(),
        api.get("/api/groups/", {"state": "NY"}).content.decode(),
        page.get("/groups/", {"state": "NY"}).content.decode(),
        page.get(f"/providers/{slug}/", {"service": service.slug, "state": "NY"}).content.decode(),
        api.get(f"/api/providers/{slug}/").content.decode(),
        api.get(
            f"/api/providers/{slug}/slots/",
            {"service": service.slug, "start": "2026-03-03", "end": "2026-03-20"},
        ).content.decode(),
    ]
    for message in _messages_to(phone, email):
        got += [message.subject, as_sent(message), message.html_body]
        got += [str(part.get("content", "")) for part in message.attachments]
    return "\n".join(got)


def test_no_seat_holder_can_find_another_anywhere(clock):
    service = group_service(capacity=3)
    seats = [_book(service, person) for person in PEOPLE[:3]]
    waiting = (
        APIClient()
        .post(
            "/api/waitlist/",
            {
                "provider": service.provider.slug,
                "service": service.slug,
                "start": TUE_18.isoformat(),
                "patient": _patient(*PEOPLE[3]),
                "sms_consent": True,
                "verification": proof_of(PEOPLE[3][1]),
            },
            format="json",
        )
        .json()
    )
    cancel_appointment(appointment=Appointment.objects.get(pk=seats[1]["id"]), actor="patient")
    offers.offer_places(provider_id=service.provider_id)
    clock.shift(timedelta(minutes=1))
    waiter_token = waiting["manage_url"].rsplit("/", 1)[-1]
    waiter_sees = "\n".join(
        [
            str(waiting),
            APIClient()
            .get(f"/api/waitlist/{waiting['id']}/", {"token": waiter_token})
            .content.decode(),
            Client().get(f"/w/{waiter_token}").content.decode(),
            *[as_sent(n) for n in _messages_to(PEOPLE[3][1], PEOPLE[3][2])],
        ]
    )

    assert "A time opened with Dana W." in waiter_sees  # the search looks where it should
    for index, person in enumerate(PEOPLE[:3]):
        assert len(_messages_to(person[1], person[2])) >= 2
        seen = _everything_for(person, seats[index], service)
        assert "BEGIN:VCALENDAR" in seen and "Tapering peer group" in seen
        for other in PEOPLE:
            if other is person:
                continue
            for trace in _traces(other):
                assert trace not in seen, f"{person[0]} can see {trace}"
    for other in PEOPLE[:3]:
        for trace in _traces(other):
            assert trace not in waiter_sees, f"the waiting person can see {trace}"


def test_the_facilitator_sees_every_alias_and_attendance_per_meeting(clock):
    login = UserFactory(username="facilitator")
    service = group_service(capacity=3, provider_kwargs={"user": login})
    for person in PEOPLE[:3]:
        _book(service, person)
    page = Client()
    page.force_login(login)

    roster = page.get("/portal/groups/").content.decode()

    assert all(alias in roster for alias, _, _ in PEOPLE[:3])
    assert "3 of 3 seats" in roster and "Confirmed" in roster
