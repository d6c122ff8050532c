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
from django.test import Client

ROOT = Path(__file__).resolve().parents[1]


def test_check_deploy_is_clean_with_an_https_public_base_url():
    alphabet = string.ascii_letters + string.digits + "!@#%^&*(-_=+)"
    env = {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": "".join(secrets.choice(alphabet) for _ in range(50)),
        "PUBLIC_BASE_URL": "https://x.example",
        "ALLOWED_HOSTS": "x.example",
        "SECURE_HSTS_SECONDS": "31536000",
        "SECURE_SSL_REDIRECT": "1",
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
    done = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues" in done.stdout


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
