"""Small typed readers for 12-factor settings."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return int(value)


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def env_secret(name: str, default: str = "") -> str:
    """Read NAME, or the contents of the file named by NAME_FILE (container secrets)."""
    value = os.environ.get(name)
    if value:
        return value
    path = os.environ.get(f"{name}_FILE")
    if path:
        return Path(path).read_text().strip()
    return default


def with_password(url: str, password: str) -> str:
    """The URL with this password in it, unless it is empty or the URL already has one."""
    if not url or not password:
        return url
    parts = urlsplit(url)
    if parts.password:
        return url
    user = quote(parts.username or "", safe="")
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{user}:{quote(password, safe='')}@{host}"))


def databases(url: str, replica_url: str, *, conn_max_age: int) -> dict[str, Any]:
    """DATABASES: `default` from url, and with replica_url a `replica` alias, which
    common.replica routes the directory, slot and feed reads to."""
    import dj_database_url

    found = {
        "default": dj_database_url.parse(url, conn_max_age=conn_max_age, conn_health_checks=True)
    }
    if replica_url:
        found["replica"] = dj_database_url.parse(
            replica_url, conn_max_age=conn_max_age, conn_health_checks=True
        )
    return found
