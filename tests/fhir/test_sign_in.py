"""A session still waiting for its second factor gets no FHIR data, and no redirect."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.factories import StaffFactory

pytestmark = pytest.mark.django_db


def test_a_half_signed_in_session_is_refused_as_the_json_api_refuses_it(settings):
    settings.REQUIRE_MFA = True
    client = Client()
    client.force_login(StaffFactory())
    response = client.get("/fhir/Practitioner")
    assert response.status_code == 403
    assert response.json()["code"] == "mfa_required"
