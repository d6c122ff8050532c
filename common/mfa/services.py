"""Enrolling an authenticator app, recovery codes, and checking a code."""

from __future__ import annotations

from base64 import b32encode
from typing import Any

from django.db import transaction
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

RECOVERY_CODES = 10


def start_enrolment(*, user: Any) -> TOTPDevice:
    """The authenticator being set up for `user`, unconfirmed until a code proves it."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
    return device


def secret_of(device: TOTPDevice) -> str:
    """The key as an app asks to type it: base32, in groups of four."""
    key = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(key[i : i + 4] for i in range(0, len(key), 4))


@transaction.atomic
def confirm_enrolment(*, device: TOTPDevice, code: str) -> list[str] | None:
    """Confirm `device` with a code from the app; it replaces the user's other
    authenticators and recovery codes. The new recovery codes, or None for a wrong code."""
    if not device.verify_token(_normalized(code)):
        return None
    TOTPDevice.objects.filter(user=device.user).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    return new_recovery_codes(user=device.user)


@transaction.atomic
def new_recovery_codes(*, user: Any) -> list[str]:
    """Ten one-time codes for a lost phone; the earlier ones stop working."""
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name="Recovery codes", confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def verify_second_factor(*, user: Any, code: str) -> Device | None:
    """The device that accepts `code` (an app's six digits, or a recovery code, used up by
    this), or None. Devices throttle repeated failures themselves."""
    code = _normalized(code)
    model: type[Device] = TOTPDevice if code.isdigit() and len(code) == 6 else StaticDevice
    with transaction.atomic():
        for device in model.objects.devices_for_user(user, confirmed=True).select_for_update():
            if device.verify_token(code):
                return device
    return None


def _normalized(code: str) -> str:
    return "".join(code.split()).lower()
