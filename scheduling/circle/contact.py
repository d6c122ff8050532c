"""Safe contact: when a patient may be texted, and what their messages may name.

Every message about a patient asks here: confirmations, reminders, the missed-visit
check-in, referral links, support-person reminders, waitlist offers. `safe_contact(patient)`
is the one entry point for other features; it reads the patient's ContactPreference (one
query, then cached on the patient) and returns a plain value with no ORM inside.

Quiet hours are wall-clock times in the patient's zone, [quiet_from, quiet_until): a window
whose end is not after its start runs past midnight. Across daylight-saving changes the
window is never shorter than asked: a start that does not exist that night (spring forward)
or exists twice (fall back) takes its earlier reading, an end its later one.

Where a text goes when it falls inside the quiet hours:
- a reminder moves earlier, to QUIET_LEAD before the window starts; if that moment has
  passed (the window has begun), it is dropped: the patient booked inside it, and the
  confirmation they just received stands in for it, as for a reminder already overdue;
- a confirmation of what the patient just did goes at once (they are awake and waiting);
- any other text (a provider's change, the missed-visit check-in, a referral link) waits
  for the window's end, unless the visit it is about starts first: then it goes at once,
  since a late warning is worse than an early one.
Email is never held: quiet hours are about the phone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from common.formatting import short_name
from common.timezones import get_zone
from notifications.text import gsm7

if TYPE_CHECKING:
    from scheduling.models import Patient

# A reminder moved out of the quiet hours goes this long before they start, so a worker's
# few seconds of lag never carry it into them.
QUIET_LEAD = timedelta(minutes=5)
DISCREET_PROVIDER = "your provider"
NAME_LIMIT = 24


def sms_name(name: str) -> str:
    """A short name fit for a text: GSM-7 and bounded, so a text stays one or two segments."""
    return gsm7(short_name(name))[:NAME_LIMIT]


def _moment(day: date, wall: time, zone: ZoneInfo, *, late: bool) -> datetime:
    """The UTC instant of a wall-clock time on a local day; a time that does not exist or
    exists twice takes its earlier reading, or with `late` its later one."""
    readings = [
        datetime.combine(day, wall, tzinfo=zone).replace(fold=fold).astimezone(UTC)
        for fold in (0, 1)
    ]
    return max(readings) if late else min(readings)


@dataclass(frozen=True)
class SafeContact:
    zone: ZoneInfo
    quiet_from: time | None = None
    quiet_until: time | None = None
    texts_ok: bool = True
    discreet_names: bool = False
    preferred_name: str = ""
    revision: int = 0
    has_support_persons: bool = False

    # ------------------------------------------------------------ quiet hours

    def quiet_window(self, at: datetime) -> tuple[datetime, datetime] | None:
        """The quiet hours (UTC start, end) that hold the instant `at`, if any."""
        if self.quiet_from is None or self.quiet_until is None:
            return None
        overnight = self.quiet_until <= self.quiet_from
        today = at.astimezone(self.zone).date()
        for day in (today - timedelta(days=1), today):
            start = _moment(day, self.quiet_from, self.zone, late=False)
            end_day = day + timedelta(days=1) if overnight else day
            end = _moment(end_day, self.quiet_until, self.zone, late=True)
            if start <= at < end:
                return start, end
        return None

    def is_quiet(self, at: datetime) -> bool:
        return self.quiet_window(at) is not None

    def reminder_at(self, wanted: datetime, *, now: datetime) -> datetime | None:
        """When a reminder due at `wanted` may be texted: then, or earlier, before the quiet
        hours that hold it; None when that moment has passed."""
        window = self.quiet_window(wanted)
        moved = wanted if window is None else window[0] - QUIET_LEAD
        return moved if moved > now else None

    def text_at(self, wanted: datetime, *, deadline: datetime | None = None) -> datetime:
        """When a text that is not an answer to the patient's own action may go: at
        `wanted`, or when the quiet hours end, unless `deadline` (the visit) comes first."""
        window = self.quiet_window(wanted)
        if window is None or (deadline is not None and window[1] >= deadline):
            return wanted
        return window[1]

    # ------------------------------------------------------------ channels and words

    @property
    def may_text(self) -> bool:
        return self.texts_ok

    def provider_name(self, name: str) -> str:
        """The provider as the patient's messages, invites and pages call them."""
        return DISCREET_PROVIDER if self.discreet_names else name

    def patient_name(self, name: str) -> str:
        return self.preferred_name or name


def safe_contact(patient: Patient) -> SafeContact:
    """The patient's rules (their defaults when they set none)."""
    from scheduling.circle.models import ContactPreference

    zone = get_zone(patient.timezone)
    try:
        pref = patient.contact_preference
    except ContactPreference.DoesNotExist:
        return SafeContact(zone=zone)
    return SafeContact(
        zone=zone,
        quiet_from=pref.quiet_from,
        quiet_until=pref.quiet_until,
        texts_ok=pref.texts_ok,
        discreet_names=pref.discreet_names,
        preferred_name=pref.preferred_name,
        revision=pref.revision,
        has_support_persons=pref.has_support_persons,
    )
