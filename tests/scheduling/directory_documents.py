"""Valid directory documents for the importer tests; each test breaks one thing."""

from __future__ import annotations

import copy
from typing import Any

DANA: dict[str, Any] = {
    "slug": "dana-whitfield",
    "name": "Dana Whitfield",
    "credentials": "LCSW, CADC",
    "kind": "therapist",
    "timezone": "America/New_York",
    "licensed_states": ["NY", "NJ"],
    "specialties": ["opioid-use-disorder", "benzodiazepines", "family-therapy"],
    "languages": ["en", "es"],
    "insurance": ["medicaid", "aetna"],
    "modalities": ["video", "phone"],
    "accepting_new_patients": True,
    "bio": "Twenty years of helping families.",
    "services": [
        {
            "slug": "intake",
            "name": "Intake assessment",
            "duration_minutes": 60,
            "buffer_before_minutes": 0,
            "buffer_after_minutes": 15,
            "min_notice_hours": 24,
            "horizon_days": 60,
            "slot_step_minutes": 30,
            "requires_approval": False,
            "capacity": 1,
        }
    ],
    "weekly_hours": [
        {"weekday": "mon", "start": "09:00", "end": "12:00"},
        {"weekday": "mon", "start": "13:00", "end": "17:00"},
        {"weekday": "wed", "start": "09:00", "end": "17:00"},
    ],
    "overrides": [
        {"date": "2026-12-24", "windows": []},
        {"date": "2026-12-27", "windows": [{"start": "10:00", "end": "12:00"}]},
    ],
    "time_off": [{"start": "2026-12-30T00:00:00-05:00", "end": "2027-01-02T00:00:00-05:00"}],
}

MARCUS: dict[str, Any] = {
    "slug": "marcus-lee",
    "name": "Marcus Lee",
    "credentials": "MD",
    "kind": "addiction_medicine",
    "timezone": "America/Phoenix",
    "licensed_states": ["AZ"],
    "services": [{"slug": "follow-up", "name": "Medication follow-up", "duration_minutes": 20}],
    "weekly_hours": [{"weekday": "tue", "start": "08:00", "end": "12:00"}],
}


def provider(base: dict[str, Any] | None = None, **changes: Any) -> dict[str, Any]:
    """A deep copy of `base` (Dana by default) with top-level keys replaced."""
    data = copy.deepcopy(base if base is not None else DANA)
    data.update(changes)
    return data


def document(*providers: dict[str, Any]) -> dict[str, Any]:
    return {"providers": list(providers) if providers else [provider()]}
