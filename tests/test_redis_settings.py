"""Redis behind a password (and TLS): REDIS_PASSWORD goes into REDIS_URL, never twice."""

from __future__ import annotations

from config.env import with_password


def test_the_password_is_put_into_a_url_without_one():
    assert with_password("redis://redis:6379/0", "s3cr:t/") == "redis://:s3cr%3At%2F@redis:6379/0"


def test_a_tls_url_keeps_its_scheme_and_certificate_options():
    url = "rediss://redis.internal:6380/0?ssl_cert_reqs=required&ssl_ca_certs=/run/ca.pem"
    assert with_password(url, "pw") == (
        "rediss://:pw@redis.internal:6380/0?ssl_cert_reqs=required&ssl_ca_certs=/run/ca.pem"
    )


def test_a_url_that_carries_a_password_is_left_alone():
    assert with_password("redis://:inline@redis:6379/0", "other") == "redis://:inline@redis:6379/0"


def test_a_username_is_kept_for_redis_acls():
    assert with_password("redis://app@redis:6379/0", "pw") == "redis://app:pw@redis:6379/0"


def test_no_password_or_no_url_changes_nothing():
    assert with_password("redis://redis:6379/0", "") == "redis://redis:6379/0"
    assert with_password("", "pw") == ""
