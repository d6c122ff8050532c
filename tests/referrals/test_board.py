"""The coordinator page: open referrals by status and age, for logged-in coordinators only."""

from __future__ import annotations

from datetime import timedelta

from django.test import Client

from referrals.models import Referral
from tests.factories import UserFactory
from tests.referrals.conftest import NOW


def test_an_anonymous_visitor_is_sent_to_log_in(db):
    response = Client().get("/referrals/board/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_a_user_who_coordinates_nothing_is_refused(db):
    client = Client()
    client.force_login(UserFactory())
    assert client.get("/referrals/board/").status_code == 403


def test_the_board_groups_open_referrals_by_status_with_their_age(
    clock, coordinator_user, create_referral
):
    create_referral(service="")
    closed = create_referral(
        service="",
        patient={
            "name": "Jo Smith",
            "phone": "+12125550177",
            "timezone": "America/New_York",
            "state": "NY",
        },
    )
    Referral.objects.filter(pk=closed.pk).update(status="cancelled")
    clock.move_to(NOW + timedelta(days=15))
    client = Client()
    client.force_login(coordinator_user)
    response = client.get("/referrals/board/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "New (1)" in html
    assert "A.R." in html and "J.S." not in html
    assert "2\xa0weeks" in html and "overdue" in html
    # The board shows who and how long, never why.
    assert "withdrawal" not in html.lower()
