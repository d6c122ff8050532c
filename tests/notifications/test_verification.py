"""POST /api/verifications/ and /check/: a texted code proves possession of a phone."""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
import time_machine
from django.core.cache import cache
from rest_framework.test import APIClient

from common import limits
from common.crypto import blind_index
from notifications.models import Notification, PhoneVerification
from notifications.optouts import opt_out
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

NOW = "2026-03-02T12:00:00+00:00"
START = "/api/verifications/"


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def start(phone="+12125550142", client=None):
    return (client or APIClient()).post(START, {"phone": phone}, format="json")


def code_sent_to(phone: str) -> str:
    body = (
        Notification.objects.filter(template="verification_code", recipient_hash=blind_index(phone))
        .latest("id")
        .body
    )
    return re.search(r"\b(\d{6})\b", body).group(1)


def check(verification_id, code):
    return APIClient().post(f"{START}{verification_id}/check/", {"code": code}, format="json")


def test_starting_answers_202_with_an_id_and_an_expiry():
    response = start()
    assert response.status_code == 202
    assert set(response.json()) == {"id", "expires_at"}


def test_a_known_and_an_unknown_number_get_the_same_status_and_shape():
    PatientFactory(phone="+12125550177")
    known, unknown = start("+12125550177"), start("+12125550188")
    assert known.status_code == unknown.status_code == 202
    assert set(known.json()) == set(unknown.json())


def test_an_opted_out_number_gets_the_same_answer_and_no_text():
    opt_out(phone="+12125550199", source="keyword")
    assert start("+12125550199").status_code == 202
    assert Notification.objects.get(template="verification_code").status == "suppressed"


def test_the_code_is_texted_through_the_outbox_and_stored_only_hashed():
    response = start()
    code = code_sent_to("+12125550142")
    row = PhoneVerification.objects.get(pk=response.json()["id"])
    assert code not in row.code_hash and len(row.code_hash) == 64


def test_the_text_says_nothing_about_care_and_names_no_one():
    start()
    body = Notification.objects.get(template="verification_code").body
    assert re.search(r"addiction|recovery|therap|treatment|counsel|appointment", body, re.I) is None


def test_the_right_code_gives_a_token():
    verification_id = start().json()["id"]
    response = check(verification_id, code_sent_to("+12125550142"))
    assert response.status_code == 200
    assert set(response.json()) == {"verification"}


def test_a_wrong_code_is_invalid_code():
    verification_id = start().json()["id"]
    wrong = "000000" if code_sent_to("+12125550142") != "000000" else "111111"
    response = check(verification_id, wrong)
    assert (response.status_code, response.json()["code"]) == (400, "invalid_code")


def test_after_five_wrong_codes_even_the_right_one_is_locked():
    verification_id = start().json()["id"]
    right = code_sent_to("+12125550142")
    wrong = "000000" if right != "000000" else "111111"
    for _ in range(5):
        check(verification_id, wrong)
    response = check(verification_id, right)
    assert (response.status_code, response.json()["code"]) == (400, "verification_locked")


def test_a_code_is_good_for_ten_minutes_only(clock):
    verification_id = start().json()["id"]
    code = code_sent_to("+12125550142")
    clock.shift(timedelta(minutes=11))
    assert check(verification_id, code).json()["code"] == "invalid_code"


def test_a_code_works_once():
    verification_id = start().json()["id"]
    code = code_sent_to("+12125550142")
    assert check(verification_id, code).status_code == 200
    assert check(verification_id, code).json()["code"] == "invalid_code"


def test_an_unknown_or_malformed_id_is_invalid_code_not_a_500():
    for verification_id in ("nope", "00000000-0000-0000-0000-000000000000"):
        assert check(verification_id, "123456").json()["code"] == "invalid_code"


def test_a_number_outside_the_allowed_countries_is_phone_not_supported():
    response = start("+44 20 7946 0958")
    assert (response.status_code, response.json()["code"]) == (400, "phone_not_supported")
    assert not Notification.objects.exists()


def test_a_malformed_number_is_invalid_phone():
    assert start("12").json()["code"] == "invalid_phone"


def test_codes_to_one_number_are_limited(settings):
    settings.VERIFICATION_SEND_RATE_PER_NUMBER = "3/10min"
    answers = [start(client=APIClient(REMOTE_ADDR=f"10.0.0.{n}")).status_code for n in range(5)]
    assert answers == [202, 202, 202, 429, 429]


def test_codes_from_one_address_are_limited(settings):
    settings.VERIFICATION_SEND_RATE_PER_CLIENT = "4/hour"
    answers = [start(f"+1212555{n:04d}").status_code for n in range(6)]
    assert answers == [202] * 4 + [429] * 2
    assert start("+12125559999").json()["code"] == "rate_limited"


def test_a_concurrent_burst_admits_exactly_the_limit():
    cache.clear()
    admitted = []
    barrier = threading.Barrier(20)

    def one() -> None:
        barrier.wait()
        admitted.append(limits.hit("burst-test", "10.0.0.9", "7/min") is None)

    threads = [threading.Thread(target=one) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert admitted.count(True) == 7
