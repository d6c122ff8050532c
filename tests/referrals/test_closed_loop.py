"""The whole referral journey through the API, with real bookings through the link."""

from __future__ import annotations

from datetime import datetime, timedelta

from notifications.models import Notification
from referrals.links import referral_token
from referrals.models import Referral
from tests.factories import as_sent
from tests.referrals.conftest import book, provider_client


def _matches(client, referral):
    response = client.get(f"/api/referrals/{referral.id}/matches/")
    assert response.status_code == 200, response.json()
    return response.json()["results"]


def _attendance(provider, appointment_id, status):
    return provider_client(provider).post(
        f"/api/appointments/{appointment_id}/attendance/", {"status": status}, format="json"
    )


def test_a_referral_closes_the_loop_from_creation_to_completed(
    clock, staff_client, provider_factory, create_referral
):
    dana = provider_factory("dana-whitfield", languages=["en", "es"])
    provider_factory("sam-kerr", name="Sam Kerr")
    referral = create_referral()
    assert referral.status == "new"

    results = _matches(staff_client, referral)
    assert [m["provider"] for m in results] == ["dana-whitfield", "sam-kerr"]
    start = results[0]["next_available"]

    response = staff_client.post(
        f"/api/referrals/{referral.id}/assign/", {"provider": "dana-whitfield"}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "offered"
    link = Notification.objects.get(template="referral_link", channel="sms")
    assert link.recipient == "+12125550142"
    assert "/r/" in link.body and referral_token(referral) not in link.body  # stored sealed
    assert (
        as_sent(link) == "Bridgeway: Dana W. can see you. Choose a time: "
        f"http://testserver/r/{referral_token(referral)} Reply STOP to stop texts."
    )

    booked = book(referral, dana, start)
    assert booked.status_code == 201, booked.json()
    referral.refresh_from_db()
    assert referral.status == "scheduled"
    assert str(referral.appointment_id) == booked.json()["id"]
    scheduled = Notification.objects.filter(template="referral_scheduled")
    assert {n.channel for n in scheduled} == {"email", "sms"}
    assert (
        "A.R. is scheduled with Dana W. on Tue Mar 10, 9:00 AM EDT"
        in scheduled.get(channel="sms").body
    )

    clock.move_to(datetime.fromisoformat(start) + timedelta(hours=1))
    assert _attendance(dana, referral.appointment_id, "attended").status_code == 200
    referral.refresh_from_db()
    assert referral.status == "completed"
    assert Notification.objects.filter(template="referral_completed", channel="email").count() == 1
    detail = staff_client.get(f"/api/referrals/{referral.id}/").json()
    assert [e["to_status"] for e in detail["events"]] == [
        "new",
        "offered",
        "scheduled",
        "completed",
    ]


def test_a_link_with_an_unknown_token_cannot_book(
    clock, provider_factory, create_referral, staff_client
):
    dana = provider_factory("dana-whitfield")
    referral = create_referral()
    staff_client.post(f"/api/referrals/{referral.id}/assign/", {}, format="json")
    start = _matches(staff_client, referral)[0]["next_available"]
    response = book(referral, dana, start, token="not-a-real-token")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_referral_token"


def test_a_link_books_only_the_offered_providers(
    clock, provider_factory, create_referral, staff_client
):
    provider_factory("dana-whitfield")
    sam = provider_factory("sam-kerr", name="Sam Kerr")
    referral = create_referral()
    staff_client.post(
        f"/api/referrals/{referral.id}/assign/", {"provider": "dana-whitfield"}, format="json"
    )
    start = _matches(staff_client, referral)[1]["next_available"]
    response = book(referral, sam, start)
    assert response.status_code == 400
    assert response.json()["code"] == "provider_not_offered"
    assert Referral.objects.get(pk=referral.pk).status == "offered"


def test_a_link_cannot_book_before_the_referral_is_offered(
    clock, provider_factory, create_referral, staff_client
):
    dana = provider_factory("dana-whitfield")
    referral = create_referral()
    start = _matches(staff_client, referral)[0]["next_available"]
    response = book(referral, dana, start)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_referral_token"


def test_a_cancelled_referral_link_no_longer_books(
    clock, provider_factory, create_referral, staff_client
):
    dana = provider_factory("dana-whitfield")
    referral = create_referral()
    staff_client.post(f"/api/referrals/{referral.id}/assign/", {}, format="json")
    start = _matches(staff_client, referral)[0]["next_available"]
    staff_client.post(
        f"/api/referrals/{referral.id}/cancel/", {"reason": "moved away"}, format="json"
    )
    response = book(referral, dana, start)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_referral_token"


def test_a_no_show_lets_the_patient_rebook_from_the_same_link(
    clock, staff_client, provider_factory, create_referral
):
    dana = provider_factory("dana-whitfield")
    referral = create_referral()
    staff_client.post(f"/api/referrals/{referral.id}/assign/", {}, format="json")
    first = _matches(staff_client, referral)[0]["next_available"]
    appointment_id = book(referral, dana, first).json()["id"]

    clock.move_to(datetime.fromisoformat(first) + timedelta(hours=1))
    assert _attendance(dana, appointment_id, "no_show").status_code == 200
    referral.refresh_from_db()
    assert referral.status == "no_show"

    again = _matches(staff_client, referral)[0]["next_available"]
    rebooked = book(referral, dana, again)
    assert rebooked.status_code == 201, rebooked.json()
    referral.refresh_from_db()
    assert referral.status == "scheduled"
    assert str(referral.appointment_id) == rebooked.json()["id"]
    assert Notification.objects.filter(template="referral_scheduled", channel="email").count() == 2


def test_cancelling_the_appointment_reopens_the_link_and_a_reschedule_keeps_the_referral_scheduled(
    clock, staff_client, provider_factory, create_referral
):
    dana = provider_factory("dana-whitfield")
    referral = create_referral()
    staff_client.post(f"/api/referrals/{referral.id}/assign/", {}, format="json")
    first = _matches(staff_client, referral)[0]["next_available"]
    booked = book(referral, dana, first).json()
    token = booked["manage_url"].rsplit("/", 1)[-1]
    later = (datetime.fromisoformat(first) + timedelta(hours=1)).isoformat()

    moved = staff_client.post(
        f"/api/appointments/{booked['id']}/reschedule/?token={token}",
        {"start": later},
        format="json",
    )
    assert moved.status_code == 200, moved.json()
    referral.refresh_from_db()
    assert referral.status == "scheduled"
    assert referral.events.filter(kind="appointment_rescheduled").count() == 1

    cancelled = staff_client.post(
        f"/api/appointments/{booked['id']}/cancel/?token={token}", {"reason": "sick"}, format="json"
    )
    assert cancelled.status_code == 200, cancelled.json()
    referral.refresh_from_db()
    assert referral.status == "offered"
    assert referral.appointment is None
    assert book(referral, dana, first).status_code == 201
    referral.refresh_from_db()
    assert referral.status == "scheduled"


def test_a_corrected_attendance_moves_the_referral_with_it(
    clock, staff_client, provider_factory, create_referral
):
    dana = provider_factory("dana-whitfield")
    referral = create_referral()
    staff_client.post(f"/api/referrals/{referral.id}/assign/", {}, format="json")
    start = _matches(staff_client, referral)[0]["next_available"]
    appointment_id = book(referral, dana, start).json()["id"]
    clock.move_to(datetime.fromisoformat(start) + timedelta(hours=1))
    assert _attendance(dana, appointment_id, "no_show").status_code == 200
    assert _attendance(dana, appointment_id, "attended").status_code == 200
    referral.refresh_from_db()
    assert referral.status == "completed"
    assert [e.to_status for e in referral.events.all()][-2:] == ["no_show", "completed"]
