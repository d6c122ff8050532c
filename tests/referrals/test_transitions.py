"""Every illegal step of the workflow answers 409 invalid_transition and changes nothing."""

from __future__ import annotations

import pytest

from common.errors import DomainError
from referrals.models import TRANSITIONS, Referral, ReferralStatus

ALL = [s.value for s in ReferralStatus]
ILLEGAL = [(a, b) for a in ALL for b in ALL if b not in TRANSITIONS[a]]


def test_the_table_names_every_status():
    assert set(TRANSITIONS) == set(ALL)


def test_a_cancelled_referral_goes_nowhere_and_a_completed_one_only_back_to_no_show():
    assert TRANSITIONS[ReferralStatus.CANCELLED] == frozenset()
    assert TRANSITIONS[ReferralStatus.COMPLETED] == frozenset({ReferralStatus.NO_SHOW})


@pytest.mark.parametrize(("from_status", "to_status"), ILLEGAL)
def test_an_illegal_transition_is_refused_with_409_and_no_event(
    from_status, to_status, create_referral
):
    referral = create_referral(service="")
    Referral.objects.filter(pk=referral.pk).update(status=from_status)
    referral.refresh_from_db()
    events = referral.events.count()
    with pytest.raises(DomainError) as caught:
        referral.transition_to(to_status, kind="test", actor="staff")
    assert (caught.value.code, caught.value.status) == ("invalid_transition", 409)
    referral.refresh_from_db()
    assert referral.status == from_status
    assert referral.events.count() == events


@pytest.mark.parametrize(
    ("from_status", "to_status"), [(a, b) for a in ALL for b in sorted(TRANSITIONS[a])]
)
def test_a_legal_transition_moves_and_writes_one_event(from_status, to_status, create_referral):
    referral = create_referral(service="")
    Referral.objects.filter(pk=referral.pk).update(status=from_status)
    referral.refresh_from_db()
    event = referral.transition_to(to_status, kind="test", actor="staff")
    assert (event.from_status, event.to_status) == (from_status, to_status)
    assert Referral.objects.get(pk=referral.pk).status == to_status


def test_events_are_append_only(create_referral):
    event = create_referral(service="").events.get()
    with pytest.raises(ValueError, match="append-only"):
        event.save()


@pytest.mark.parametrize(
    ("status", "action", "body"),
    [
        ("new", "accept", {}),
        ("new", "decline", {"reason": "full"}),
        ("completed", "assign", {}),
        ("completed", "cancel", {}),
        ("cancelled", "cancel", {}),
        ("cancelled", "accept", {}),
        ("scheduled", "decline", {"reason": "full"}),
        ("scheduled", "assign", {}),
        ("no_show", "accept", {}),
    ],
)
def test_the_api_answers_409_for_an_illegal_step(
    status, action, body, staff_client, create_referral, provider_factory
):
    provider_factory("dana-whitfield")
    referral = create_referral()
    Referral.objects.filter(pk=referral.pk).update(status=status)
    response = staff_client.post(
        f"/api/referrals/{referral.id}/{action}/",
        {"provider": "dana-whitfield", **body},
        format="json",
    )
    assert response.status_code == 409, response.json()
    assert response.json()["code"] == "invalid_transition"
    assert Referral.objects.get(pk=referral.pk).status == status


def test_accepting_twice_is_an_illegal_step(clock, staff_client, create_referral, provider_factory):
    dana = provider_factory("dana-whitfield")
    referral = create_referral()
    staff_client.post(f"/api/referrals/{referral.id}/assign/", {}, format="json")
    from tests.referrals.conftest import provider_client

    client = provider_client(dana)
    assert (
        client.post(f"/api/referrals/{referral.id}/accept/", {}, format="json").status_code == 200
    )
    again = client.post(f"/api/referrals/{referral.id}/accept/", {}, format="json")
    assert (again.status_code, again.json()["code"]) == (409, "invalid_transition")
