"""The operator's admin lists and opens referrals without letting anyone edit the timeline."""

from __future__ import annotations

from django.test import Client

from tests.factories import UserFactory


def test_an_operator_can_list_and_open_referrals_in_the_admin(create_referral):
    referral = create_referral(service="")
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(admin)
    for path in (
        "/admin/referrals/referral/",
        f"/admin/referrals/referral/{referral.pk}/change/",
        "/admin/referrals/organization/",
        "/admin/referrals/coordinator/",
    ):
        assert client.get(path).status_code == 200, path
