"""Without DATABASE_REPLICA_URL the replica router leaves every choice to Django."""

from __future__ import annotations

from common.replica import ReplicaRouter, _current, _Request
from scheduling.models import Provider


def test_without_a_replica_every_read_and_write_uses_the_one_database():
    token = _current.set(_Request(replica=True))
    try:
        router = ReplicaRouter()
        assert (router.db_for_read(Provider), router.db_for_write(Provider)) == (None, None)
    finally:
        _current.reset(token)


def test_without_a_replica_no_answer_carries_the_primary_cookie(client, db):
    response = client.get("/api/providers/")

    assert "bw_primary" not in response.cookies
