"""Escalation and the nudge happen once each, however often the scheduled tasks run."""

from __future__ import annotations

from datetime import timedelta

from django_q.models import Schedule

from notifications.models import Notification
from referrals import tasks
from referrals.models import Referral
from tests.referrals.conftest import NOW, book


def _assign(client, referral):
    response = client.post(f"/api/referrals/{referral.id}/assign/", {}, format="json")
    assert response.status_code == 200, response.json()


def test_the_schedules_exist_after_migrate(db):
    funcs = set(Schedule.objects.values_list("func", flat=True))
    assert {"referrals.tasks.escalate_overdue", "referrals.tasks.nudge_unbooked"} <= funcs


def test_nothing_happens_before_half_the_deadline(
    clock, staff_client, provider_factory, create_referral
):
    provider_factory("dana")
    _assign(staff_client, create_referral(urgency="urgent"))
    clock.move_to(NOW + timedelta(hours=35, minutes=59))
    assert (tasks.nudge_unbooked(), tasks.escalate_overdue()) == (0, 0)


def test_an_unbooked_patient_is_nudged_once_at_half_the_deadline(
    clock, staff_client, provider_factory, create_referral
):
    provider_factory("dana")
    referral = create_referral(urgency="urgent")
    _assign(staff_client, referral)
    clock.move_to(NOW + timedelta(hours=36))
    assert tasks.nudge_unbooked() == 1
    clock.move_to(NOW + timedelta(hours=40))
    assert tasks.nudge_unbooked() == 0
    nudges = Notification.objects.filter(template="referral_nudge")
    assert {n.channel for n in nudges} == {"sms", "email"}
    assert nudges.count() == 2
    assert nudges.get(channel="sms").body.startswith(
        "Reminder: Dana W. can see you. Choose a time: "
    )
    assert Referral.objects.get(pk=referral.pk).events.filter(kind="nudged").count() == 1


def test_a_routine_referral_is_nudged_after_seven_days(
    clock, staff_client, provider_factory, create_referral
):
    provider_factory("dana")
    _assign(staff_client, create_referral(urgency="routine"))
    clock.move_to(NOW + timedelta(days=6, hours=23))
    assert tasks.nudge_unbooked() == 0
    clock.move_to(NOW + timedelta(days=7))
    assert tasks.nudge_unbooked() == 1


def test_a_referral_past_its_deadline_is_escalated_once_and_the_coordinator_told_once(
    clock, staff_client, provider_factory, create_referral
):
    provider_factory("dana")
    referral = create_referral(urgency="urgent")
    _assign(staff_client, referral)
    clock.move_to(NOW + timedelta(hours=71, minutes=59))
    assert tasks.escalate_overdue() == 0
    clock.move_to(NOW + timedelta(hours=72))
    assert tasks.escalate_overdue() == 1
    assert tasks.escalate_overdue() == 0
    clock.move_to(NOW + timedelta(hours=90))
    assert tasks.escalate_overdue() == 0

    referral.refresh_from_db()
    assert referral.status == "escalated"
    assert referral.escalated_at == NOW + timedelta(hours=72)
    assert referral.events.filter(kind="escalated").count() == 1
    coordinator = Notification.objects.filter(template="referral_escalated_coordinator")
    assert list(coordinator.values_list("recipient", flat=True)) == ["casey@county.example.org"]
    referrer = Notification.objects.filter(template="referral_escalated")
    assert sorted(referrer.values_list("channel", flat=True)) == ["email", "sms"]


def test_an_escalated_referral_that_is_reassigned_is_not_escalated_again(
    clock, staff_client, provider_factory, create_referral
):
    provider_factory("dana")
    provider_factory("sam", name="Sam Kerr")
    referral = create_referral(urgency="urgent")
    clock.move_to(NOW + timedelta(hours=73))
    assert tasks.escalate_overdue() == 1
    _assign(staff_client, referral)
    assert Referral.objects.get(pk=referral.pk).status == "offered"
    assert tasks.escalate_overdue() == 0


def test_a_scheduled_or_cancelled_referral_is_never_escalated(
    clock, staff_client, provider_factory, create_referral
):
    dana = provider_factory("dana")
    booked = create_referral(urgency="urgent")
    _assign(staff_client, booked)
    start = staff_client.get(f"/api/referrals/{booked.id}/matches/").json()["results"][0][
        "next_available"
    ]
    assert book(booked, dana, start).status_code == 201
    cancelled = create_referral(
        urgency="urgent",
        patient={
            "name": "Jo Smith",
            "phone": "+12125550177",
            "timezone": "America/New_York",
            "state": "NY",
            "sms_consent": True,
        },
    )
    staff_client.post(f"/api/referrals/{cancelled.id}/cancel/", {}, format="json")
    clock.move_to(NOW + timedelta(days=30))
    assert (tasks.nudge_unbooked(), tasks.escalate_overdue()) == (0, 0)
    assert Referral.objects.get(pk=booked.pk).status == "scheduled"


def test_an_escalated_referral_can_still_be_booked_from_its_link(
    clock, staff_client, provider_factory, create_referral
):
    dana = provider_factory("dana")
    referral = create_referral(urgency="urgent")
    _assign(staff_client, referral)
    clock.move_to(NOW + timedelta(hours=72))
    tasks.escalate_overdue()
    start = staff_client.get(f"/api/referrals/{referral.id}/matches/").json()["results"][0][
        "next_available"
    ]
    assert book(referral, dana, start).status_code == 201
    assert Referral.objects.get(pk=referral.pk).status == "scheduled"


def test_without_the_creators_address_the_organizations_coordinators_are_told(
    clock, staff_client, coordinator_user, organization, create_referral
):
    from referrals.models import Coordinator
    from tests.factories import UserFactory

    create_referral(service="", urgency="urgent")
    coordinator_user.email = ""
    coordinator_user.save()
    Coordinator.objects.create(
        user=UserFactory(username="robin", email="robin@county.example.org"),
        organization=organization,
    )
    clock.move_to(NOW + timedelta(hours=72))
    assert tasks.escalate_overdue() == 1
    told = Notification.objects.filter(template="referral_escalated_coordinator")
    assert list(told.values_list("recipient", flat=True)) == ["robin@county.example.org"]
