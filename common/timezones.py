"""IANA time zone names, checked against the system's tz database."""

from __future__ import annotations

from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

from common.errors import DomainError

# The tz database's geographic areas. Names outside them are legacy or system aliases
# ("EST", "US/Eastern", "Factory", "localtime", "posix/...") that a person never chooses and
# that some calendars do not know: refuse them, and suggest an Area/City name instead.
AREAS = frozenset(
    {
        "Africa",
        "America",
        "Antarctica",
        "Arctic",
        "Asia",
        "Atlantic",
        "Australia",
        "Europe",
        "Indian",
        "Pacific",
    }
)


@lru_cache(maxsize=1)
def _known() -> frozenset[str]:
    return frozenset(
        name
        for name in available_timezones()
        if name == "UTC" or name.partition("/")[0] in AREAS and "/" in name
    )


def is_timezone(name: str) -> bool:
    return isinstance(name, str) and name in _known()


@lru_cache(maxsize=1024)
def get_zone(name: str) -> ZoneInfo:
    """Return the ZoneInfo for an IANA name or raise DomainError(invalid_timezone)."""
    if not is_timezone(name):
        raise DomainError("invalid_timezone", f"Unknown time zone: {name!r}.", fields={"tz": name})
    return ZoneInfo(name)
