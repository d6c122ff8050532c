"""Production settings: `check --deploy` is clean with an https PUBLIC_BASE_URL, and the
TLS settings do what they say."""

from __future__ import annotations

import os
import secrets
import string
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.test import Client

ROOT = Path(__file__).resolve().parents[1]


def production_env(**overrides: str) -> dict[str, str]:
    alphabet = string.ascii_letters + string.digits + "!@#%^&*(-_=+)"
    env = {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": "".join(secrets.choice(alphabet) for _ in range(50)),
        "FIELD_ENCRYPTION_KEYS": f"{Fernet.generate_key().decode()},{Fernet.generate_key().decode()}",
        "FIELD_HASH_KEY": secrets.token_urlsafe(32),
        "PUBLIC_BASE_URL": "https://x.example",
        "ALLOWED_HOSTS": "x.example",
        "SECURE_HSTS_SECONDS": "31536000",
        "SECURE_SSL_REDIRECT": "1",
        **overrides,
    }
    # Browser tests set DJANGO_ALLOW_ASYNC_UNSAFE in this process; a deployment never would.
    for name in (
        "SESSION_COOKIE_SECURE",
        "REQUIRE_MFA",
        "API_DOCS_ENABLED",
        "SENTRY_DSN",
        "DJANGO_ALLOW_ASYNC_UNSAFE",
    ):
        env.pop(name, None)
    return env


def check_deploy(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_an_https_public_base_url():
    done = check_deploy(production_env())
    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues" in done.stdout


def test_production_without_field_encryption_keys_fails_the_checks():
    done = check_deploy(production_env(FIELD_ENCRYPTION_KEYS="", FIELD_HASH_KEY=""))
    assert done.returncode != 0
    assert "common.E001" in done.stderr


def test_a_field_encryption_key_that_is_not_a_fernet_key_fails_the_checks():
    done = check_deploy(
        production_env(FIELD_ENCRYPTION_KEYS=f"{Fernet.generate_key().decode()},nope")
    )
    assert done.returncode != 0
    assert "common.E003" in done.stderr and "key 2" in done.stderr


@pytest.mark.django_db
def test_ssl_redirect_sends_http_to_https_but_not_the_health_check(settings):
    settings.SECURE_SSL_REDIRECT = True
    client = Client()
    response = client.get("/providers/")
    assert response.status_code == 301 and response["Location"].startswith("https://")
    assert client.get("/healthz/").status_code == 200


@pytest.mark.django_db
def test_hsts_is_sent_over_https_when_set(settings):
    settings.SECURE_HSTS_SECONDS = 31536000
    response = Client().get("/", secure=True)
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
