"""After signing in, each person lands on their own workspace, not a missing profile page."""

from __future__ import annotations

from django.test import Client

from tests.factories import ProviderFactory, StaffFactory, UserFactory

PASSWORD = "correct horse battery staple"


def _login(user) -> str:
    client = Client()
    response = client.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    return client.get(response["Location"])["Location"]


def test_a_provider_lands_on_their_portal(db):
    user = UserFactory()
    ProviderFactory(user=user)
    assert _login(user) == "/portal/"


def test_a_coordinator_lands_on_the_referral_board(coordinator_user):
    coordinator_user.set_password(PASSWORD)
    coordinator_user.save()
    assert _login(coordinator_user) == "/referrals/board/"


def test_staff_without_an_organization_land_on_the_board_or_admin(db):
    assert _login(StaffFactory()) in {"/referrals/board/", "/admin/"}


def test_anyone_else_lands_on_find_help(db):
    assert _login(UserFactory()) == "/"
