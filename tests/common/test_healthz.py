"""/healthz/ answers 200 only when the database and the cache both answer (issue 18)."""

from __future__ import annotations

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db


def test_a_healthy_process_answers_ok_with_each_check(client):
    response = client.get("/healthz/")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "cache": "ok"}


def test_an_unreachable_cache_is_a_503_naming_it(client, monkeypatch):
    from django.core.cache import cache

    def refuse(*args, **kwargs):
        raise ConnectionError("Error 111 connecting to redis:6379. Connection refused.")

    monkeypatch.setattr(cache, "get", refuse)

    response = client.get("/healthz/")

    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "ok", "cache": "unreachable"}


def test_an_unreachable_database_is_a_503_naming_it(client, monkeypatch):
    def refuse(*args, **kwargs):
        raise connection.Database.OperationalError("connection refused")

    monkeypatch.setattr(connection, "cursor", refuse)

    response = client.get("/healthz/")

    assert response.status_code == 503
    assert response.json()["database"] == "unreachable"


@pytest.mark.redis
def test_the_cache_checked_is_the_shared_redis(settings):
    from django.core.cache import cache

    assert settings.CACHES["default"]["BACKEND"] == "common.cache.RedisCache"
    assert cache.incr_window("healthz-test", 5) == 1
    assert cache.incr_window("healthz-test", 5) == 2
