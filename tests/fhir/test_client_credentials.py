"""Systems sign in with OAuth2 client credentials and act as their organization."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest
from django.utils import timezone
from oauth2_provider.models import AccessToken, Application
from rest_framework.test import APIClient

from tests.fhir.conftest import coordinator_of, valid
from tests.fhir.test_referral_loop import REFERRAL

pytestmark = pytest.mark.django_db

SECRET = "a-long-client-secret-for-tests-only"


def application_for(user) -> Application:
    return Application.objects.create(
        name="County ED EHR",
        user=user,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
        client_secret=SECRET,
    )


def bearer(application: Application, secret: str = SECRET) -> APIClient:
    basic = base64.b64encode(f"{application.client_id}:{secret}".encode()).decode()
    response = APIClient().post(
        "/o/token/",
        {"grant_type": "client_credentials"},
        HTTP_AUTHORIZATION=f"Basic {basic}",
    )
    assert response.status_code == 200, response.content
    token = json.loads(response.content)
    assert token["scope"] == "fhir"
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token['access_token']}")
    return client


def test_a_system_reads_its_organizations_referrals_with_a_client_credentials_token(service):
    ours = coordinator_of("county-ed")
    request_id = ours.post("ServiceRequest", REFERRAL).body["id"]
    system = bearer(application_for(ours.user))
    response = system.get(f"/fhir/ServiceRequest/{request_id}")
    assert response.status_code == 200
    assert valid(response.json())["id"] == request_id


def test_a_systems_token_is_scoped_to_its_organization(service):
    request_id = coordinator_of("county-ed").post("ServiceRequest", REFERRAL).body["id"]
    other = application_for(coordinator_of("other-clinic").user)
    system = bearer(other)
    assert system.get(f"/fhir/ServiceRequest/{request_id}").status_code == 404
    assert system.get("/fhir/ServiceRequest").json()["total"] == 0


def test_a_wrong_client_secret_gets_no_token(service):
    application = application_for(coordinator_of("county-ed").user)
    basic = base64.b64encode(f"{application.client_id}:wrong".encode()).decode()
    response = APIClient().post(
        "/o/token/", {"grant_type": "client_credentials"}, HTTP_AUTHORIZATION=f"Basic {basic}"
    )
    assert response.status_code == 401


def test_a_token_without_the_fhir_scope_is_refused(service):
    application = application_for(coordinator_of("county-ed").user)
    AccessToken.objects.create(
        application=application,
        token="token-without-fhir-scope",
        scope="read",
        expires=timezone.now() + timedelta(hours=1),
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer token-without-fhir-scope")
    response = client.get("/fhir/Practitioner")
    assert response.status_code == 403
    assert valid(response.json())["resourceType"] == "OperationOutcome"


def test_an_unknown_bearer_token_is_401(service):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer nope")
    response = client.get("/fhir/Practitioner")
    assert response.status_code == 401
