"""What Sentry would receive holds no name, phone, email or link token.

Names are recognised by the field that holds them (a name in free text cannot be told from
other words); phones, emails and tokens wherever they are."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from common.sentry import scrub_event, scrub_text

ROOT = Path(__file__).resolve().parents[2]
SECRETS = [
    "Alex Rivera",
    "alex@example.net",
    "+12125550142",
    "212-555-0142",
    "(212) 555 0142",
    "Tk9vXyZ_abc-123",
    "FeEdToKeN42",
    "VeRiFy77",
    "s3ss10nk3y",
]


def an_event() -> dict:
    return {
        "event_id": "abc",
        "sdk": {"name": "sentry.python.django", "version": "2"},
        "message": "could not text +12125550142 (alex@example.net)",
        "logentry": {"message": "Not Found: %s", "params": ["/m/Tk9vXyZ_abc-123/booked"]},
        "request": {
            "url": "https://x.example/m/Tk9vXyZ_abc-123/booked",
            "query_string": "token=Tk9vXyZ_abc-123&tz=UTC",
            "headers": [
                ["Cookie", "sessionid=s3ss10nk3y"],
                ["Referer", "https://x.example/calendar/FeEdToKeN42.ics"],
            ],
            "data": {
                "patient": {"name": "Alex Rivera", "phone": "212-555-0142"},
                "verification": "VeRiFy77",
            },
        },
        "user": {"id": 7, "username": "alex", "email": "alex@example.net"},
        "extra": {"patient_name": "Alex Rivera", "note": "call (212) 555 0142"},
        "exception": {
            "values": [
                {"type": "ValueError", "value": "bad phone 212-555-0142 for alex@example.net"}
            ]
        },
        "breadcrumbs": {
            "values": [{"category": "query", "message": "SELECT … WHERE phone = '+12125550142'"}]
        },
    }


def test_the_scrubbed_event_holds_no_personal_detail_or_token():
    sent = json.dumps(scrub_event(an_event(), {}))
    leaked = [secret for secret in SECRETS if secret in sent]
    assert not leaked


def test_the_scrubbed_event_keeps_what_debugging_needs():
    event = scrub_event(an_event(), {})
    assert event["user"] == {"id": 7}
    assert event["exception"]["values"][0]["type"] == "ValueError"
    assert event["request"]["url"] == "https://x.example/m/[redacted]/booked"
    assert event["sdk"]["name"] == "sentry.python.django"


def test_dates_times_and_ids_are_not_taken_for_phone_numbers():
    text = "appointment 3f2c9a1e at 2026-03-04T10:00:00-05:00 took 1500 ms"
    assert scrub_text(text) == text


def test_a_sentry_dsn_turns_reporting_on_with_the_scrubber():
    env = {**os.environ, "DEBUG": "1", "SENTRY_DSN": "https://public@127.0.0.1:9/1"}
    script = (
        "import config.settings, sentry_sdk; o = sentry_sdk.get_client().options; "
        "print(o['before_send'].__name__, o['send_default_pii'], o['include_local_variables'])"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.stdout.split() == ["scrub_event", "False", "False"], done.stderr
