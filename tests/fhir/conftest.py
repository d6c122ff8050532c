from __future__ import annotations

import json
from typing import Any

import pytest
from fhir.resources import construct_fhir_element
from rest_framework.test import APIClient

from common.api_tokens import issue_api_token
from referrals.models import Coordinator, Organization
from tests.factories import ServiceFactory, SpecialtyFactory, StaffFactory, UserFactory
from tests.notifications.conftest import NOW

SPECIALTY = "opioid-use-disorder"


def valid(body: dict[str, Any]) -> dict[str, Any]:
    """Parse the answer with the fhir.resources R4 (4.0.1) models: raises when invalid."""
    construct_fhir_element(body["resourceType"], body)
    for entry in body.get("entry") or []:
        construct_fhir_element(entry["resource"]["resourceType"], entry["resource"])
    return body


class FhirClient:
    def __init__(self, user: Any) -> None:
        self.user = user
        self.client = APIClient()
        self.client.credentials(HTTP_AUTHORIZATION=f"Token {issue_api_token(user=user)}")

    def _check(self, response: Any) -> Any:
        assert response["Content-Type"].startswith("application/fhir+json"), response
        response.body = valid(response.json())
        return response

    def get(self, path: str, **params: Any) -> Any:
        return self._check(self.client.get(f"/fhir/{path}", params))

    def post(self, path: str, body: dict[str, Any]) -> Any:
        return self._check(
            self.client.post(
                f"/fhir/{path}", json.dumps(body), content_type="application/fhir+json"
            )
        )

    def patch(self, path: str, body: Any) -> Any:
        return self._check(self.client.patch(f"/fhir/{path}", body, format="json"))

    def put(self, path: str, body: Any) -> Any:
        return self._check(self.client.put(f"/fhir/{path}", body, format="json"))


@pytest.fixture(autouse=True)
def _settings(settings: Any, time_machine: Any) -> None:
    settings.SMS_BACKEND = "notifications.backends.locmem.LocmemBackend"
    settings.NOTIFICATIONS_DISPATCH = "sync"
    settings.PUBLIC_BASE_URL = "https://bridgeway.example.org"
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def service() -> Any:
    from tests.factories import ProviderFactory

    provider = ProviderFactory(name="Dana Whitfield", states=["NY", "NJ"])
    provider.specialties.add(SpecialtyFactory(slug=SPECIALTY, name="Opioid use disorder"))
    return ServiceFactory(provider=provider, slug="follow-up", name="Follow-up visit")


@pytest.fixture
def staff() -> FhirClient:
    return FhirClient(StaffFactory())


def coordinator_of(slug: str) -> FhirClient:
    organization, _ = Organization.objects.get_or_create(slug=slug, defaults={"name": slug})
    user = UserFactory()
    Coordinator.objects.create(user=user, organization=organization)
    return FhirClient(user)
