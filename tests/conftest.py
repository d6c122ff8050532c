from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest
from django.conf import settings
from django.test import override_settings
from hypothesis import settings as hypothesis_settings

CHROMIUM = shutil.which("chromium") or (
    "/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None
)

# CI (which sets CI=true) runs the same examples every time and prints a blob to replay any
# failure with @reproduce_failure; no deadline, as CI machines are loaded and timing varies.
hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True, deadline=None)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    """pytest-randomly shuffles the order; -q hides its header, so say here how to replay it."""
    if config.pluginmanager.hasplugin("randomly"):
        seed = config.getoption("randomly_seed")
        terminalreporter.write_line(f"test order: -p randomly --randomly-seed={seed}")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    is_postgres = settings.DATABASES["default"]["ENGINE"].startswith(
        "django.db.backends.postgresql"
    )
    skips = {
        "postgres": None
        if is_postgres
        else pytest.mark.skip(
            reason="needs PostgreSQL: set DATABASE_URL=postgres://... (.ci/run does)"
        ),
        "redis": None
        if os.environ.get("REDIS_URL")
        else pytest.mark.skip(reason="needs Redis: set REDIS_URL=redis://... (.ci/run does)"),
        "browser": None
        if CHROMIUM
        else pytest.mark.skip(
            reason="needs Debian's chromium (apt-get install chromium; .ci/run does)"
        ),
    }
    for item in items:
        for marker, skip in skips.items():
            if skip is not None and marker in item.keywords:
                item.add_marker(skip)


@pytest.fixture(autouse=True, scope="session")
def _fast_password_hashing() -> Iterator[None]:
    """Tests hash passwords (factories, logins): PBKDF2 costs about half a second a hash, MD5
    nothing. MD5 goes first, so it hashes; the real hashers stay to verify stored hashes."""
    fast = ["django.contrib.auth.hashers.MD5PasswordHasher", *settings.PASSWORD_HASHERS]
    with override_settings(PASSWORD_HASHERS=fast):
        yield


@pytest.fixture
def sms_outbox(settings):  # pytest-django fixture
    """Route SMS to the in-memory backend and hand back its outbox."""
    settings.SMS_BACKEND = "notifications.backends.locmem.LocmemBackend"
    from notifications.backends import locmem

    locmem.outbox.clear()
    return locmem.outbox


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the default language, as a worker's task does: a Spanish page
    requested by an earlier test in this thread leaves Spanish active (LocaleMiddleware
    activates, nothing deactivates)."""
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Throttle counters (booking rate limit) live in the cache: no test inherits another's."""
    _clear_cache()
    yield
    _clear_cache()


def _clear_cache() -> None:
    # On Redis the cache shares the broker's database: FLUSHDB (cache.clear) would also wipe
    # django-q2's queue under a running worker, so delete only the cache's own keys.
    from django.core.cache import cache

    options = settings.CACHES["default"]
    if options["BACKEND"].endswith("RedisCache"):
        client = cache._cache.get_client(write=True)  # type: ignore[attr-defined]
        keys = list(client.scan_iter(match=f"{options.get('KEY_PREFIX', '')}:*", count=1000))
        if keys:
            client.delete(*keys)
    else:
        cache.clear()
