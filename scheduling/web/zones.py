"""The visitor's time zone: chosen in the page, detected by the browser, or guessed."""

from __future__ import annotations

from datetime import date, datetime
from urllib.parse import unquote
from zoneinfo import ZoneInfo

from django.http import HttpRequest, HttpResponse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from common.timezones import get_zone, is_timezone

TZ_COOKIE = "bw_tz"
FALLBACK_ZONE = "America/New_York"

# Friendly names for the zones most visitors are in; any other IANA zone is shown as-is.
COMMON_ZONES: list[tuple[str, str | Promise]] = [
    ("America/New_York", _("Eastern Time (New York)")),
    ("America/Chicago", _("Central Time (Chicago)")),
    ("America/Denver", _("Mountain Time (Denver)")),
    ("America/Phoenix", _("Arizona (Phoenix)")),
    ("America/Los_Angeles", _("Pacific Time (Los Angeles)")),
    ("America/Anchorage", _("Alaska (Anchorage)")),
    ("Pacific/Honolulu", _("Hawaii (Honolulu)")),
    ("America/Puerto_Rico", _("Atlantic Time (Puerto Rico)")),
    ("Pacific/Guam", _("Chamorro Time (Guam)")),
    ("Pacific/Pago_Pago", _("Samoa (Pago Pago)")),
    ("UTC", _("Coordinated Universal Time (UTC)")),
]

# A first guess before the browser says where it is: the zone most of a state lives in.
STATE_ZONES: dict[str, str] = {
    **dict.fromkeys(
        "CT DE DC FL GA IN KY ME MD MA MI NH NJ NY NC OH PA RI SC VT VA WV".split(),
        "America/New_York",
    ),
    **dict.fromkeys("AL AR IL IA KS LA MN MS MO NE ND OK SD TN TX WI".split(), "America/Chicago"),
    **dict.fromkeys("CO ID MT NM UT WY".split(), "America/Denver"),
    "AZ": "America/Phoenix",
    **dict.fromkeys("CA NV OR WA".split(), "America/Los_Angeles"),
    "AK": "America/Anchorage",
    "HI": "Pacific/Honolulu",
    **dict.fromkeys("PR VI".split(), "America/Puerto_Rico"),
    **dict.fromkeys("GU MP".split(), "Pacific/Guam"),
    "AS": "Pacific/Pago_Pago",
}


class VisitorZone:
    """The zone pages show times in, and where that choice came from."""

    def __init__(self, name: str, source: str) -> None:
        self.name = name
        self.source = source  # "chosen" (form), "browser" (cookie) or "default" (a guess)
        self.zone: ZoneInfo = get_zone(name)

    @property
    def label(self) -> str:
        return str(dict(COMMON_ZONES).get(self.name, self.name.replace("_", " ")))

    def abbreviation(self, at: datetime | None = None) -> str:
        from django.utils import timezone

        return (at or timezone.now()).astimezone(self.zone).strftime("%Z")

    def choices(self) -> list[tuple[str, str | Promise]]:
        if self.name in dict(COMMON_ZONES):
            return COMMON_ZONES
        return [(self.name, self.label), *COMMON_ZONES]

    @property
    def js_offsets(self) -> str:
        """'300,240': minutes behind UTC on Jan 1 and Jul 1 (as JavaScript's
        getTimezoneOffset says them), so a browser whose clock agrees skips asking Intl."""
        year = self.today().year
        offsets = []
        for month in (1, 7):
            offset = datetime(year, month, 1, 12, tzinfo=self.zone).utcoffset()
            offsets.append(str(-int(offset.total_seconds() // 60)) if offset is not None else "")
        return ",".join(offsets)

    def today(self) -> date:
        from django.utils import timezone

        return timezone.now().astimezone(self.zone).date()


def visitor_zone(request: HttpRequest, *, state: str = "") -> VisitorZone:
    """?tz= wins (the visitor picked it), then the browser's cookie, then the state's zone."""
    chosen = request.GET.get("tz") or request.POST.get("tz") or ""
    if is_timezone(chosen):
        return VisitorZone(chosen, "chosen")
    cookie = unquote(request.COOKIES.get(TZ_COOKIE, ""))
    if is_timezone(cookie):
        return VisitorZone(cookie, "browser")
    return VisitorZone(STATE_ZONES.get(state, FALLBACK_ZONE), "default")


def remember_zone(response: HttpResponse, zone: VisitorZone) -> HttpResponse:
    """Keep a zone the visitor picked for the next pages."""
    if zone.source == "chosen":
        response.set_cookie(TZ_COOKIE, zone.name, max_age=365 * 24 * 3600, samesite="Lax")
    return response
