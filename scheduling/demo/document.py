"""A realistic demo directory as a CONTRACT import document, built from a seeded random.

Everything dated (overrides, time off) is computed from `today`, so the demo never goes
stale; everything else is the same on every run.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

SEED = 20261125
PROVIDER_COUNT = 48


@dataclass(frozen=True)
class Region:
    state: str
    zone: str
    neighbours: tuple[str, ...]
    area_code: str
    languages: tuple[str, ...]  # besides English and Spanish, what this area often needs


REGIONS: tuple[Region, ...] = (
    Region("NY", "America/New_York", ("NJ", "CT"), "212", ("zh", "ru", "ht")),
    Region("PA", "America/New_York", ("NJ", "DE"), "215", ("ru", "vi")),
    Region("MA", "America/New_York", ("NH", "RI"), "617", ("ht", "pt")),
    Region("FL", "America/New_York", ("GA",), "305", ("ht",)),
    Region("OH", "America/New_York", ("KY", "WV"), "614", ("so", "ar")),
    Region("IL", "America/Chicago", ("WI", "IN"), "312", ("pl", "ko")),
    Region("TX", "America/Chicago", ("OK",), "713", ("vi", "zh")),
    Region("MN", "America/Chicago", ("WI",), "612", ("so", "hmn")),
    Region("TN", "America/Chicago", ("KY",), "615", ("ar",)),
    Region("CO", "America/Denver", ("NM", "WY"), "303", ("vi",)),
    Region("UT", "America/Denver", ("ID",), "801", ("tl",)),
    Region("AZ", "America/Phoenix", ("NM",), "602", ("nv",)),
    Region("CA", "America/Los_Angeles", ("NV",), "415", ("zh", "vi", "ko", "tl")),
    Region("WA", "America/Los_Angeles", ("OR",), "206", ("vi", "ru", "so")),
    Region("OR", "America/Los_Angeles", ("WA",), "503", ("ru", "vi")),
)
REGION_BY_STATE = {region.state: region for region in REGIONS}

KINDS = (
    ["therapist"] * 14
    + ["addiction_medicine"] * 10
    + ["counselor"] * 10
    + ["peer_coach"] * 8
    + ["group_facilitator"] * 6
)

FIRST_NAMES = (
    "Aaliyah Amara Andre Ana Beatriz Brian Camila Carmen Chen Daniel Deshawn Elena Farah "
    "Gabriel Grace Hannah Hector Imani Isaac Jamal Jasmine Jin Jordan Kateryna Keisha Kevin "
    "Lakshmi Leah Linh Lucia Malik Maria Marisol Michael Minh Nadia Nathan Olga Omar Priya "
    "Rafael Rosa Samuel Sofia Tamika Teresa Thomas Valentina Wei Yusuf Zoe"
).split()
LAST_NAMES = (
    "Abernathy Adeyemi Alvarez Baptiste Becker Brooks Castillo Chavez Cohen Delgado Duarte "
    "Ellison Fitzgerald Gallagher Garcia Haddad Harper Hoang Ibrahim Jefferson Kaminski Kim "
    "Kowalski Lindqvist Lopez Marsh Mendoza Moreau Nakamura Nguyen Novak Okafor Olsen Patel "
    "Petrov Quinn Ramirez Reyes Romero Sandoval Schwartz Singh Sorensen Tran Vargas Volkov "
    "Washington Whitaker Yazzie Zhang"
).split()

CREDENTIALS = {
    "therapist": ("LCSW", "LMFT", "PhD", "PsyD", "LPC", "LCSW, CADC", "LMHC"),
    "addiction_medicine": ("MD", "DO", "MD, FASAM", "NP", "PA-C", "DNP, PMHNP-BC"),
    "counselor": ("LCADC", "CADC", "LADC", "CAC II", "LPC, LCADC", "MAC"),
    "peer_coach": ("CPRS", "CRPS", "CPRC", "NCPRSS"),
    "group_facilitator": ("CADC", "LCSW", "CPRS", "LPC"),
}

SPECIALTIES = {
    "therapist": (
        "benzodiazepines",
        "stimulants",
        "trauma",
        "family-therapy",
        "co-occurring-disorders",
        "anxiety",
        "depression",
        "grief-and-loss",
        "young-adults",
        "lgbtq-affirming",
        "relapse-prevention",
    ),
    "addiction_medicine": (
        "benzodiazepines",
        "stimulants",
        "pain-management",
        "co-occurring-disorders",
        "harm-reduction",
        "medication-for-oud",
        "pregnancy-and-postpartum",
        "tapering",
    ),
    "counselor": (
        "benzodiazepines",
        "stimulants",
        "relapse-prevention",
        "family-therapy",
        "co-occurring-disorders",
        "harm-reduction",
        "veterans",
        "young-adults",
    ),
    "peer_coach": (
        "recovery-coaching",
        "harm-reduction",
        "relapse-prevention",
        "family-support",
        "veterans",
        "employment-and-housing",
        "benzodiazepines",
    ),
    "group_facilitator": (
        "support-groups",
        "family-support",
        "relapse-prevention",
        "benzodiazepines",
        "grief-and-loss",
    ),
}

INSURERS = ("medicare", "aetna", "bcbs", "cigna", "united", "tricare")

BIO = {
    "therapist": "{first} is a psychotherapist who helps adults rebuild routines, relationships "
    "and trust after prescription drug dependence.",
    "addiction_medicine": "{first} is a clinician board-certified in addiction medicine who "
    "offers medication management and careful tapering plans.",
    "counselor": "{first} is a licensed counselor focused on practical relapse-prevention "
    "skills and on involving the people who matter to you.",
    "peer_coach": "{first} is a peer recovery coach with lived experience who walks alongside "
    "you between appointments: goals, setbacks, benefits, housing.",
    "group_facilitator": "{first} facilitates recovery support groups where people share what "
    "works, in a confidential and welcoming space.",
}

GROUPS = (
    ("weekly-support-group", "Weekly support group", 90, 12),
    ("family-and-friends-group", "Family and friends support group", 60, 10),
    ("tapering-peer-group", "Tapering peer group", 60, 8),
    ("evening-recovery-circle", "Evening recovery circle", 75, 12),
    ("womens-recovery-group", "Women's recovery group", 90, 10),
    ("young-adults-group", "Young adults group", 60, 12),
)


def _service(slug: str, name: str, minutes: int, **extra: Any) -> dict[str, Any]:
    service = {
        "slug": slug,
        "name": name,
        "duration_minutes": minutes,
        "buffer_before_minutes": 0,
        "buffer_after_minutes": 10,
        "min_notice_hours": 24,
        "horizon_days": 60,
        "slot_step_minutes": 30,
        "requires_approval": False,
        "capacity": 1,
    }
    service.update(extra)
    return service


def _hours(days: list[str], windows: list[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"weekday": d, "start": s, "end": e} for d in days for s, e in windows]


def _services_and_hours(
    kind: str, rng: random.Random, specialties: list[str], group_index: int
) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    weekdays = ["mon", "tue", "wed", "thu", "fri"]
    if kind == "therapist":
        services = [
            _service("intake", "Intake assessment", 60, buffer_after_minutes=15),
            # Weekly therapy: bookable as a series of up to 16 weeks (issue 13).
            _service(
                "individual-session",
                "Individual session",
                50,
                horizon_days=112,
                series_max_weeks=16,
            ),
        ]
        if "family-therapy" in specialties:
            services.append(_service("family-session", "Family session", 80))
        days = sorted(rng.sample(weekdays, rng.randint(3, 5)), key=weekdays.index)
        hours = _hours(days, [("09:00", "12:00"), ("13:00", "17:00")])
        if rng.random() < 0.4:
            hours += _hours(["tue", "thu"], [("17:30", "20:00")])
        if rng.random() < 0.25:
            hours += _hours(["sat"], [("09:00", "13:00")])
        return services, hours
    if kind == "addiction_medicine":
        services = [
            _service(
                "new-patient-evaluation",
                "New patient evaluation",
                60,
                requires_approval=True,
                min_notice_hours=48,
                buffer_after_minutes=15,
            ),
            _service(
                "medication-follow-up",
                "Medication follow-up",
                20,
                min_notice_hours=4,
                slot_step_minutes=20,
                buffer_after_minutes=5,
            ),
        ]
        days = sorted(rng.sample(weekdays, rng.randint(3, 5)), key=weekdays.index)
        return services, _hours(days, [("08:00", "12:00"), ("13:00", "16:00")])
    if kind == "counselor":
        services = [
            _service("intake", "Intake session", 60, buffer_after_minutes=15),
            _service("counseling-session", "Counseling session", 45, buffer_after_minutes=15),
        ]
        days = sorted(rng.sample(weekdays, 4), key=weekdays.index)
        return services, _hours(days, [("10:00", "14:00"), ("15:00", "19:00")])
    if kind == "peer_coach":
        services = [
            _service(
                "coaching-call",
                "Recovery coaching call",
                30,
                min_notice_hours=2,
                horizon_days=30,
                buffer_after_minutes=0,
            )
        ]
        days = [*sorted(rng.sample(weekdays, 3), key=weekdays.index), "sat"]
        hours = _hours(days, [("08:00", "11:00"), ("16:00", "20:00")])
        if rng.random() < 0.5:
            hours += _hours(["sun"], [("12:00", "15:00")])
        return services, hours
    slug, name, minutes, capacity = GROUPS[group_index % len(GROUPS)]
    services = [
        _service(
            slug,
            name,
            minutes,
            capacity=capacity,
            min_notice_hours=1,
            horizon_days=56,
            slot_step_minutes=minutes,
            buffer_after_minutes=0,
        )
    ]
    # Each window fits exactly one session: a group meets at a fixed time.
    start_hour = rng.choice([17, 18, 19])
    end = (datetime.combine(date.min, time(start_hour, 30)) + timedelta(minutes=minutes)).time()
    evening = [(f"{start_hour}:30", f"{end:%H:%M}")]
    days = sorted(rng.sample(weekdays, 2), key=weekdays.index)
    hours = _hours(days, evening) + _hours(
        ["sat"], [("10:00", f"{10 + minutes // 60:02d}:{minutes % 60:02d}")]
    )
    return services, hours


def _names(rng: random.Random) -> list[tuple[str, str]]:
    names = [("Dana", "Whitfield")]
    seen = {"dana-whitfield"}
    while len(names) < PROVIDER_COUNT:
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        slug = f"{first}-{last}".lower()
        if slug not in seen:
            seen.add(slug)
            names.append((first, last))
    return names


def _dated(
    rng: random.Random, today: date, zone: ZoneInfo, index: int
) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    """Overrides and time off ahead of today (local), for some providers."""
    overrides: list[dict[str, Any]] = []
    time_off: list[dict[str, str]] = []
    roll = rng.random()
    if index % 3 == 0 or roll < 0.2:
        closed = today + timedelta(days=rng.randint(3, 12))
        overrides.append({"date": closed.isoformat(), "windows": []})
        short = closed + timedelta(days=rng.randint(2, 9))
        overrides.append(
            {"date": short.isoformat(), "windows": [{"start": "10:00", "end": "12:00"}]}
        )
    if index % 5 == 2:
        first = today + timedelta(days=rng.randint(16, 30))
        start = datetime.combine(first, time(0), tzinfo=zone)
        end = datetime.combine(first + timedelta(days=rng.randint(2, 5)), time(0), tzinfo=zone)
        time_off.append({"start": start.isoformat(), "end": end.isoformat(), "note": "Conference"})
    return overrides, time_off


def build_document(today: date) -> dict[str, Any]:
    """The demo directory for `today`; identical on every run apart from the dated parts."""
    rng = random.Random(SEED)  # noqa: S311 - demo data must be reproducible
    names = _names(rng)
    providers: list[dict[str, Any]] = []
    group_index = 0
    for index, ((first, last), kind) in enumerate(zip(names, KINDS, strict=True)):
        region = REGIONS[0] if index == 0 else REGIONS[(index * 7) % len(REGIONS)]
        states = [region.state]
        states += rng.sample(region.neighbours, rng.randint(0, len(region.neighbours)))
        if index == 0:
            states = ["NY", "NJ"]

        pool = SPECIALTIES[kind]
        specialties = rng.sample(pool, rng.randint(2, min(4, len(pool))))
        if kind in ("therapist", "addiction_medicine", "counselor"):
            specialties.insert(0, "opioid-use-disorder")
        if index == 0:
            specialties = ["opioid-use-disorder", "benzodiazepines", "family-therapy"]

        languages = ["en"]
        if rng.random() < 0.4 or index == 0:
            languages.append("es")
        if rng.random() < 0.5:
            languages.append(rng.choice(region.languages))

        if kind in ("peer_coach", "group_facilitator"):
            insurance = ["self-pay", "medicaid"]
        else:
            insurance = ["self-pay"]
            if rng.random() < 0.75:
                insurance.append("medicaid")
            insurance += rng.sample(INSURERS, rng.randint(1, 4))

        services, hours = _services_and_hours(kind, rng, specialties, group_index)
        if kind == "group_facilitator":
            group_index += 1
        overrides, time_off = _dated(rng, today, ZoneInfo(region.zone), index)
        modalities = ["video"] if kind == "group_facilitator" else ["video", "phone"]
        slug = f"{first}-{last}".lower()
        providers.append(
            {
                "slug": slug,
                "name": f"{first} {last}",
                "credentials": rng.choice(CREDENTIALS[kind]) if index else "LCSW, CADC",
                "kind": kind,
                "timezone": region.zone,
                "licensed_states": states,
                "specialties": specialties,
                "languages": languages,
                "insurance": insurance,
                "modalities": modalities,
                "accepting_new_patients": rng.random() < 0.85 or index == 0,
                "bio": BIO[kind].format(first=first),
                "email": f"{slug}@clinic.example.org",
                "services": services,
                "weekly_hours": hours,
                "overrides": overrides,
                "time_off": time_off,
            }
        )
    return {"providers": providers}
