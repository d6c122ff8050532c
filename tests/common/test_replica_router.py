"""DATABASE_REPLICA_URL (issue 18): directory, slot and feed reads come from the replica;
whoever just wrote reads from the primary. A second PostgreSQL database with the same
schema stands in for the replica, holding different rows, so each answer says which
database served it."""

from __future__ import annotations

import psycopg
import pytest
import time_machine
from django.db import connections, transaction
from rest_framework.test import APIClient

from common.replica import PRIMARY_COOKIE, REPLICA
from scheduling.models import Provider, ProviderLicense, Service, WeeklyHours
from tests.scheduling.booking_helpers import BOOK_URL, NOW, WED_10, make_service, payload

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, databases=["default", "replica"]),
]
SLOTS = "/api/providers/{slug}/slots/?service={service}&state=NY&start=2026-03-04&end=2026-03-04"


@pytest.fixture(scope="module")
def replica_database(django_db_setup, django_db_blocker):
    """A copy of the migrated test database (CREATE DATABASE … TEMPLATE), as `replica`."""
    default = connections["default"].settings_dict
    name = f"{default['NAME']}_replica"
    admin = psycopg.connect(
        host=default["HOST"] or None,
        port=default["PORT"] or None,
        user=default["USER"],
        password=default["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    )
    with django_db_blocker.unblock():
        connections.close_all()  # a template may have no other session
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{default["NAME"]}"')
    connections.settings[REPLICA] = {**default, "NAME": name}
    yield REPLICA
    connections[REPLICA].close()
    del connections.settings[REPLICA]
    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


@pytest.fixture
def replica(replica_database):
    return replica_database  # Django's test case empties it after each test, like default


def mirror(service: Service) -> None:
    """Copy the provider's directory rows to the replica, as replication would."""
    for model in (Provider, ProviderLicense, Service, WeeklyHours):
        rows = list(model.objects.using("default").filter(**_of(model, service.provider_id)))
        model.objects.using(REPLICA).bulk_create(rows)


def _of(model: type, provider_id: int) -> dict[str, int]:
    return {"pk": provider_id} if model is Provider else {"provider_id": provider_id}


def test_a_provider_is_read_from_the_replica(replica):
    service = make_service()
    mirror(service)
    Provider.objects.using(REPLICA).filter(pk=service.provider_id).update(name="Replica Name")

    response = APIClient().get(f"/api/providers/{service.provider.slug}/")

    assert response.status_code == 200
    assert response.json()["name"] == "Replica Name"


def test_the_directory_search_is_read_from_the_replica(replica):
    service = make_service()
    mirror(service)
    Provider.objects.using(REPLICA).filter(pk=service.provider_id).update(name="Replica Name")

    response = APIClient().get("/api/providers/?state=NY")

    assert [p["name"] for p in response.json()["results"]] == ["Replica Name"]


def test_slots_are_read_from_the_replica_without_the_cookie(replica):
    with time_machine.travel(NOW, tick=False):
        service = make_service()
        mirror(service)
        WeeklyHours.objects.using(REPLICA).filter(provider_id=service.provider_id).delete()

        response = APIClient().get(SLOTS.format(slug=service.provider.slug, service=service.slug))

    assert response.status_code == 200
    assert response.json() == []  # the replica's provider has no hours


def test_the_booker_reads_the_slots_from_the_primary_after_booking(replica):
    with time_machine.travel(NOW, tick=False):
        service = make_service()
        mirror(service)
        client = APIClient()
        booked = client.post(BOOK_URL, payload(service, WED_10), format="json")
        slots = client.get(SLOTS.format(slug=service.provider.slug, service=service.slug))
        stranger = APIClient().get(SLOTS.format(slug=service.provider.slug, service=service.slug))

    assert booked.status_code == 201, booked.content
    assert booked.cookies[PRIMARY_COOKIE]["max-age"] == 10
    starts = [s["start"] for s in slots.json()]
    assert WED_10.isoformat() not in starts  # the primary holds the booking
    # The replica has not seen it yet: anyone else is still offered that time.
    assert WED_10.isoformat() in [s["start"] for s in stranger.json()]


def test_a_request_that_wrote_reads_from_the_primary_for_the_rest_of_it(replica):
    from common.replica import ReplicaRouter, _current, _Request

    state = _Request(replica=True)
    token = _current.set(state)
    try:
        router = ReplicaRouter()
        before = router.db_for_read(Provider)
        router.db_for_write(Provider)
        after = router.db_for_read(Provider)
    finally:
        _current.reset(token)

    assert (before, after) == (REPLICA, "default")


def test_reads_inside_a_transaction_on_the_primary_stay_on_the_primary(replica):
    from common.replica import ReplicaRouter, _current, _Request

    token = _current.set(_Request(replica=True))
    try:
        with transaction.atomic():
            inside = ReplicaRouter().db_for_read(Service)
    finally:
        _current.reset(token)

    assert inside == "default"


def test_writes_go_to_the_primary_even_for_a_row_read_from_the_replica(replica):
    service = make_service()
    mirror(service)
    from_replica = Provider.objects.using(REPLICA).get(pk=service.provider_id)

    from_replica.bio = "changed"
    from_replica.save(update_fields=["bio"])

    assert Provider.objects.using("default").get(pk=service.provider_id).bio == "changed"
    assert Provider.objects.using(REPLICA).get(pk=service.provider_id).bio == ""
