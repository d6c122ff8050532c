"""docker compose up --scale web=N --scale worker=M works (issue 18): nothing that two
copies of a service cannot share, and every web copy is reached through the proxy."""

from __future__ import annotations

from pathlib import Path

import yaml

COMPOSE = yaml.safe_load(
    (Path(__file__).resolve().parent.parent / "docker-compose.yml").read_text()
)
SCALED = ("web", "worker")


def test_scaled_services_have_no_fixed_container_name():
    for name in SCALED:
        assert "container_name" not in COMPOSE["services"][name], name


def test_scaled_services_publish_no_host_port():
    # A host port can be bound once: a second copy would fail to start.
    for name in SCALED:
        assert "ports" not in COMPOSE["services"][name], name


def test_scaled_services_keep_nothing_on_a_volume_of_their_own():
    # Sessions, cache, rate limits and the queue live in PostgreSQL and Redis.
    for name in SCALED:
        assert "volumes" not in COMPOSE["services"][name], name


def test_the_web_copies_are_reached_through_the_proxy_and_checked_for_health():
    services = COMPOSE["services"]
    assert services["proxy"]["depends_on"]["web"] == {"condition": "service_healthy"}
    assert "/healthz/" in " ".join(services["web"]["healthcheck"]["test"])
    assert services["worker"]["healthcheck"]["test"][-1] == "worker_health"
