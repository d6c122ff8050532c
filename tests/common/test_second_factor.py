"""Staff, coordinators and providers sign in with a second factor when REQUIRE_MFA is on."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.test import Client
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from common.api_tokens import issue_api_token
from common.mfa.services import new_recovery_codes
from referrals.models import Coordinator, Organization
from tests.factories import ProviderFactory, StaffFactory, UserFactory

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery staple"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _require_mfa(settings):
    settings.REQUIRE_MFA = True


def code_for(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def enrolled(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="phone", confirmed=True)


def provider_user():
    user = UserFactory()
    ProviderFactory(user=user)
    return user


def coordinator_user():
    user = UserFactory()
    Coordinator.objects.create(user=user, organization=Organization.objects.create(slug="o"))
    return user


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize(
    ("make_user", "path"),
    [
        (StaffFactory, "/admin/"),
        (coordinator_user, "/referrals/board/"),
        (provider_user, "/portal/"),
    ],
)
def test_a_password_alone_does_not_open_the_workspace(make_user, path):
    user = make_user()
    enrolled(user)
    response = signed_in(user).get(path)
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/mfa/?next={path.replace('/', '%2F')}"


def test_someone_without_an_authenticator_is_sent_to_set_one_up():
    response = signed_in(provider_user()).get("/portal/")
    assert response["Location"].startswith("/accounts/mfa/setup/?next=")


def test_a_session_api_call_waits_for_the_second_factor():
    response = signed_in(StaffFactory()).get("/api/referrals/")
    assert response.status_code == 403 and response.json()["code"] == "mfa_required"


def test_an_api_token_is_judged_alone_not_by_a_waiting_session():
    staff = StaffFactory()
    client = APIClient()
    client.force_login(staff)
    client.credentials(HTTP_AUTHORIZATION=f"Token {issue_api_token(user=staff)}")
    assert client.get("/api/referrals/").status_code == 200


def test_people_who_see_no_patient_details_need_no_second_factor():
    client = signed_in(UserFactory())
    assert client.get("/").status_code == 200
    assert client.get("/referrals/home/")["Location"] == "/"


@pytest.mark.parametrize(("debug", "required"), [("0", "True"), ("1", "False")])
def test_mfa_is_required_by_default_unless_debug(debug, required):
    env = {**os.environ, "DEBUG": debug, "SECRET_KEY": "x" * 50}
    env.pop("REQUIRE_MFA", None)
    script = "import config.settings as s; print(s.REQUIRE_MFA)"
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert out.stdout.strip() == required, out.stderr


def test_setting_up_shows_the_key_then_signs_in_with_the_apps_code():
    user = provider_user()
    client = signed_in(user)
    page = client.get("/accounts/mfa/setup/?next=/portal/")
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    assert "otpauth://totp/" in page.text and device.key not in page.text
    assert page.context["secret"].replace(" ", "") in page.text.replace(" ", "")
    done = client.post("/accounts/mfa/setup/", {"code": code_for(device), "next": "/portal/"})
    codes = done.context["codes"]
    assert len(codes) == 10 and all(code in done.text for code in codes)
    assert client.get("/portal/").status_code == 200


def test_a_wrong_code_sets_nothing_up():
    user = provider_user()
    client = signed_in(user)
    client.get("/accounts/mfa/setup/")
    page = client.post("/accounts/mfa/setup/", {"code": "000000"})
    assert page.status_code == 200 and "did not match" in page.text
    assert not TOTPDevice.objects.filter(user=user, confirmed=True).exists()
    assert client.get("/portal/").status_code == 302


def test_an_enrolled_login_cannot_enrol_another_app_before_its_code():
    user = provider_user()
    enrolled(user)
    response = signed_in(user).get("/accounts/mfa/setup/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/mfa/?")


def test_the_full_sign_in_is_password_then_code():
    user = coordinator_user()
    device = enrolled(user)
    client = Client()
    login = client.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    assert client.get(login["Location"])["Location"].startswith("/accounts/mfa/?next=")
    wrong = client.post("/accounts/mfa/", {"code": "123456", "next": "/referrals/board/"})
    assert wrong.status_code == 200 and "did not work" in wrong.text
    with time_machine.travel(timezone.now() + timedelta(seconds=60)):
        right = client.post(
            "/accounts/mfa/", {"code": code_for(device), "next": "/referrals/board/"}
        )
        assert right["Location"] == "/referrals/board/"
        assert client.get("/referrals/board/").status_code == 200


def test_a_recovery_code_signs_in_once():
    user = StaffFactory()
    enrolled(user)
    code = new_recovery_codes(user=user)[0]
    first = signed_in(user)
    assert first.post("/accounts/mfa/", {"code": code.upper()})["Location"] == "/referrals/home/"
    assert first.get("/api/referrals/").status_code == 200
    again = signed_in(user).post("/accounts/mfa/", {"code": code})
    assert again.status_code == 200
    assert StaticDevice.objects.get(user=user).token_set.count() == 9


def test_an_outside_next_address_is_not_followed():
    user = StaffFactory()
    enrolled(user)
    code = new_recovery_codes(user=user)[0]
    response = signed_in(user).post(
        "/accounts/mfa/", {"code": code, "next": "https://evil.example/"}
    )
    assert response["Location"] == "/referrals/home/"
