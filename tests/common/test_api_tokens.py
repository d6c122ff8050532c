"""API tokens (`Authorization: Token …`) are stored hashed and expire."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from common.api_tokens import issue_api_token
from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db
URL = "/api/referrals/"
REFUSED = {401, 403}  # 403 where the session comes first among the view's authenticators


def _get(token: str) -> int:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client.get(URL).status_code


def test_a_token_opens_the_api_with_the_token_keyword():
    assert _get(issue_api_token(user=StaffFactory())) == 200


def test_the_database_does_not_hold_the_token():
    token = issue_api_token(user=StaffFactory())
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {AuthToken._meta.db_table}")
        stored = " ".join(str(value) for row in cursor.fetchall() for value in row)
    assert len(token) >= 64 and token not in stored
    assert AuthToken.objects.get().token_key == token[:15]  # the lookup prefix alone


def test_a_token_expires_after_api_token_days(settings):
    token = issue_api_token(user=StaffFactory())
    expiry = AuthToken.objects.get().expiry
    assert expiry is not None
    assert abs(expiry - (timezone.now() + timedelta(days=settings.API_TOKEN_DAYS))).seconds < 60
    with time_machine.travel(expiry + timedelta(seconds=1)):
        assert _get(token) in REFUSED
    assert not AuthToken.objects.exists()  # an expired token is deleted when presented


def test_a_made_up_token_is_refused():
    issue_api_token(user=StaffFactory())
    assert _get("0" * 64) in REFUSED


def test_create_api_token_prints_a_working_token_once():
    staff = StaffFactory()
    out = StringIO()
    call_command("create_api_token", staff.username, "--days", "7", stdout=out)
    token = out.getvalue().strip()
    assert _get(token) == 200
    expiry = AuthToken.objects.get(user=staff).expiry
    assert expiry is not None and expiry - timezone.now() < timedelta(days=7, minutes=1)
