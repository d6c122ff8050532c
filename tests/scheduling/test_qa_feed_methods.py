"""QA: the provider feed is read-only; other methods are 405 even with a valid token."""

from __future__ import annotations

import pytest
from django.test import Client

from scheduling.calendar.feeds import rotate_feed_token
from tests.factories import ProviderFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_writing_to_a_feed_is_405_not_a_csrf_refusal(method):
    token = rotate_feed_token(provider=ProviderFactory())
    client = Client(enforce_csrf_checks=True)

    response = getattr(client, method)(f"/calendar/{token}.ics")

    assert response.status_code == 405
    assert client.get(f"/calendar/{token}.ics").status_code == 200
