"""POST /api/waitlist/ and the entry's private API: the identity rules, position, leave, take."""

from __future__ import annotations

from typing import Any

import pytest
import time_machine
from rest_framework.test import APIClient

from scheduling.booking.services import cancel_appointment
from scheduling.booking.waitlist import offers
from scheduling.booking.waitlist.models import WaitlistEntry, WaitlistStatus
from scheduling.models import Appointment
from tests.factories import proof_of
from tests.scheduling.waitlist_helpers import NEXT_TUE_18, NOW, PHONES, TUE_18, full_group

pytestmark = pytest.mark.django_db
URL = "/api/waitlist/"


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def _body(service: Any, phone: str, **overrides: Any) -> dict[str, Any]:
    body = {
        "provider": service.provider.slug,
        "service": service.slug,
        "start": TUE_18.isoformat(),
        "patient": {"name": "K.", "phone": phone, "timezone": "America/New_York", "state": "NY"},
        "sms_consent": True,
        "verification": proof_of(phone),
    }
    body.update(overrides)
    return body


def _token(answer: Any) -> str:
    return answer.json()["manage_url"].rsplit("/", 1)[-1]


def test_joining_answers_the_id_position_and_private_link_only(clock):
    service, _ = full_group()

    answer = APIClient().post(URL, _body(service, PHONES[5]), format="json")

    assert answer.status_code == 201
    assert set(answer.json()) == {"id", "position", "manage_url"}
    assert answer.json()["position"] == 1
    assert "/w/" in answer.json()["manage_url"]


def test_without_a_code_known_and_unknown_numbers_get_the_same_refusal(clock):
    service, _ = full_group()
    known, unknown = PHONES[0], "+12125550777"  # PHONES[0] holds a seat

    answers = [
        APIClient().post(URL, _body(service, phone, verification=""), format="json")
        for phone in (known, unknown)
    ]

    assert [a.status_code for a in answers] == [400, 400]
    assert answers[0].json() == answers[1].json()
    assert answers[0].json()["code"] == "verification_required"


def test_a_session_with_seats_left_is_booked_not_waited_for(clock):
    service, _ = full_group()

    answer = APIClient().post(
        URL, _body(service, PHONES[5], start=NEXT_TUE_18.isoformat()), format="json"
    )

    assert answer.status_code == 409
    assert answer.json()["code"] == "seats_available"


def test_joining_needs_consent_to_texts(clock):
    service, _ = full_group()

    answer = APIClient().post(URL, _body(service, PHONES[5], sms_consent=False), format="json")

    assert answer.json()["code"] == "sms_consent_required"
    assert not WaitlistEntry.objects.exists()


def test_start_and_before_together_are_refused(clock):
    service, _ = full_group()

    answer = APIClient().post(
        URL, _body(service, PHONES[5], before=NEXT_TUE_18.isoformat()), format="json"
    )

    assert answer.status_code == 400
    assert answer.json()["code"] == "invalid"


def test_the_private_link_shows_the_place_and_leaves_the_list(clock):
    service, _ = full_group()
    joined = APIClient().post(URL, _body(service, PHONES[5]), format="json").json()
    client, token = APIClient(), joined["manage_url"].rsplit("/", 1)[-1]

    shown = client.get(f"{URL}{joined['id']}/?token={token}").json()
    left = client.post(f"{URL}{joined['id']}/leave/?token={token}").json()

    assert (shown["status"], shown["position"], shown["offer"]) == ("waiting", 1, None)
    assert (left["status"], left["position"]) == (WaitlistStatus.LEFT, None)


def test_without_the_token_the_entry_does_not_exist(clock):
    service, _ = full_group()
    joined = APIClient().post(URL, _body(service, PHONES[5]), format="json").json()

    assert APIClient().get(f"{URL}{joined['id']}/?token=nope").status_code == 404


def test_opening_the_link_takes_the_held_seat(clock):
    service, seats = full_group()
    answer = APIClient().post(URL, _body(service, PHONES[5]), format="json")
    cancel_appointment(appointment=seats[0], actor="patient")
    offers.offer_places(provider_id=service.provider_id)

    taken = APIClient().post(f"{URL}{answer.json()['id']}/accept/?token={_token(answer)}")

    assert taken.status_code == 200
    assert Appointment.objects.get(pk=taken.json()["appointment"]).start == TUE_18
