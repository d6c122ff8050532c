"""The locust users of bench/load.py (run by it; not alone): one mixed visitor at a fixed pace.

Each user runs one request every LOAD_PACE seconds (constant_pacing), so N users make a
fixed arrival rate of N / LOAD_PACE requests a second while answers stay under the pace:
an open-loop test, not clients that slow down when the server does. What each request
uses (free slots, proofs of possession, manage tokens, feed URLs, patients' numbers) comes
from the plan bench/load.py wrote (LOAD_PLAN), each item used once.
"""

from __future__ import annotations

import json
import os
import random
from typing import Any
from urllib.parse import urlencode

from locust import FastHttpUser, constant_pacing, task
from twilio.request_validator import RequestValidator

if "LOAD_PLAN" not in os.environ:  # `make bench` runs every script: this one is locust's
    print("bench/load_users.py is run by bench/load.py (through locust); skipped")
    raise SystemExit(0)
PLAN: dict[str, Any] = json.loads(open(os.environ["LOAD_PLAN"]).read())
_bookings = iter(PLAN["bookings"])
_reschedules = iter(PLAN["reschedules"])
_cancels = iter(PLAN["cancels"])
_replies = iter(PLAN["replies"])
_etags: dict[str, str] = {}
_signer = RequestValidator(PLAN["twilio_auth_token"])
JSON = {"Content-Type": "application/json"}


def _check(response: Any, *expected: int) -> None:
    if response.status_code not in expected:
        response.failure(f"{response.status_code}: {str(response.text)[:120]}")
    else:
        response.success()


class Visitor(FastHttpUser):
    wait_time = constant_pacing(float(os.environ.get("LOAD_PACE", "1")))

    @task(5)
    def search(self) -> None:
        query = random.choice(PLAN["searches"])
        with self.client.get(f"/api/providers/?{query}", name="search", catch_response=True) as r:
            _check(r, 200)

    @task(3)
    def provider(self) -> None:
        slug = random.choice(PLAN["providers"])
        with self.client.get(f"/api/providers/{slug}/", name="provider", catch_response=True) as r:
            _check(r, 200)

    @task(6)
    def slots(self) -> None:
        slug = random.choice(PLAN["providers"])
        url = f"/api/providers/{slug}/slots/?service=visit&state=NY&{PLAN['slot_range']}"
        with self.client.get(url, name="slots", catch_response=True) as r:
            _check(r, 200)

    @task(4)
    def book(self) -> None:
        payload = next(_bookings, None)
        if payload is None:
            return
        with self.client.post(
            "/api/appointments/",
            data=json.dumps(payload),
            headers=JSON,
            name="book",
            catch_response=True,
        ) as r:
            _check(r, 201)

    @task(1)
    def reschedule(self) -> None:
        item = next(_reschedules, None)
        if item is None:
            return
        with self.client.post(
            f"/api/appointments/{item['id']}/reschedule/",
            data=json.dumps({"token": item["token"], "start": item["start"]}),
            headers=JSON,
            name="reschedule",
            catch_response=True,
        ) as r:
            _check(r, 200)

    @task(1)
    def cancel(self) -> None:
        item = next(_cancels, None)
        if item is None:
            return
        with self.client.post(
            f"/api/appointments/{item['id']}/cancel/",
            data=json.dumps({"token": item["token"], "reason": ""}),
            headers=JSON,
            name="cancel",
            catch_response=True,
        ) as r:
            _check(r, 200)

    @task(3)
    def feed(self) -> None:
        path = random.choice(PLAN["feeds"])
        headers = {"If-None-Match": _etags[path]} if path in _etags else {}
        with self.client.get(path, headers=headers, name="feed", catch_response=True) as r:
            if r.status_code == 200 and r.headers.get("ETag"):
                _etags[path] = r.headers["ETag"]
            _check(r, 200, 304)

    @task(1)
    def sms_reply(self) -> None:
        item = next(_replies, None)
        if item is None:
            return
        form = {"MessageSid": item["sid"], "From": item["from"], "To": "+15005550006", "Body": "C"}
        url = PLAN["public_base_url"] + "/webhooks/twilio/sms/"
        with self.client.post(
            "/webhooks/twilio/sms/",
            data=urlencode(form),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Twilio-Signature": _signer.compute_signature(url, form),
            },
            name="sms_reply",
            catch_response=True,
        ) as r:
            _check(r, 200)
