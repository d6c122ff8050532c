"""Repeated wrong passwords lock sign-in, on the site and in the admin, until reset."""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt
from django.core.management import call_command
from django.test import Client

from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"
PATHS = ["/accounts/login/", "/admin/login/"]


def _fail(client: Client, path: str, username: str, times: int) -> list[int]:
    return [
        client.post(path, {"username": username, "password": "wrong"}).status_code
        for _ in range(times)
    ]


@pytest.mark.parametrize("path", PATHS)
def test_five_wrong_passwords_lock_out_even_the_right_one(settings, path):
    settings.AXES_FAILURE_LIMIT = 5
    staff = StaffFactory()
    client = Client()
    assert _fail(client, path, staff.username, 4) == [200] * 4
    answers = _fail(client, path, staff.username, 1)
    right = client.post(path, {"username": staff.username, "password": PASSWORD})
    assert answers == [429] and right.status_code == 429
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("path", PATHS)
def test_a_locked_account_stays_locked_from_another_address(settings, path):
    settings.AXES_FAILURE_LIMIT = 5
    staff = StaffFactory()
    _fail(Client(REMOTE_ADDR="203.0.113.5"), path, staff.username, 5)
    elsewhere = Client(REMOTE_ADDR="198.51.100.7")
    right = elsewhere.post(path, {"username": staff.username, "password": PASSWORD})
    assert right.status_code == 429


def test_failures_are_kept_in_the_database_for_every_process(settings):
    staff = StaffFactory()
    _fail(Client(), "/accounts/login/", staff.username, 2)
    assert AccessAttempt.objects.get(username=staff.username).failures_since_start == 2


def test_axes_reset_unlocks_sign_in(settings):
    settings.AXES_FAILURE_LIMIT = 5
    staff = StaffFactory()
    client = Client()
    _fail(client, "/accounts/login/", staff.username, 5)
    call_command("axes_reset", verbosity=0)
    right = client.post("/accounts/login/", {"username": staff.username, "password": PASSWORD})
    assert right.status_code == 302 and client.session["_auth_user_id"] == str(staff.pk)


def test_the_admin_lists_lockouts_to_delete(settings):
    staff = StaffFactory(is_superuser=True)
    _fail(Client(REMOTE_ADDR="203.0.113.5"), "/accounts/login/", "someone", 5)
    admin = Client()
    admin.force_login(staff)
    page = admin.get("/admin/axes/accessattempt/")
    assert page.status_code == 200 and "someone" in page.content.decode()
