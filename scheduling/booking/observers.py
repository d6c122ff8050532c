"""Modules told of appointment changes, named in settings.APPOINTMENT_OBSERVERS.

This keeps dependencies one-way: scheduling never imports referrals. An observer module
may define either hook; a missing one is skipped.

- check_booking(*, referral_token, provider, service, phone): called before a booking that
  carries a referral token is inserted; raises DomainError to refuse it. A referral link
  was texted to one phone, so a check that passes proves possession of `phone`.
- appointment_changed(*, appointment, event, referral_token): called after every
  lifecycle event, inside its transaction.
- referral_priority(*, referral_token): whether the referral is urgent (waitlist order).
- patient_erased(*, patient, phone): called while a patient is erased (before their phone
  is removed), so what an observer keeps about them goes too.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import import_module
from types import ModuleType
from typing import TYPE_CHECKING

from django.conf import settings

if TYPE_CHECKING:
    from scheduling.models import Appointment, AppointmentEvent, Patient, Provider, Service


@lru_cache(maxsize=8)
def _load(paths: tuple[str, ...]) -> tuple[ModuleType, ...]:
    return tuple(import_module(path) for path in paths)


def observers() -> tuple[ModuleType, ...]:
    return _load(tuple(getattr(settings, "APPOINTMENT_OBSERVERS", ())))


def check_booking(*, referral_token: str, provider: Provider, service: Service, phone: str) -> bool:
    """Let observers refuse a referred booking; True when at least one of them checked it."""
    checked = False
    for module in observers():
        hook = getattr(module, "check_booking", None)
        if hook is not None:
            hook(referral_token=referral_token, provider=provider, service=service, phone=phone)
            checked = True
    return checked


def appointment_changed(
    *, appointment: Appointment, event: AppointmentEvent, referral_token: str | None = None
) -> None:
    for module in observers():
        hook = getattr(module, "appointment_changed", None)
        if hook is not None:
            hook(appointment=appointment, event=event, referral_token=referral_token)


def referral_priority(*, referral_token: str) -> int:
    """1 when an observer knows the referral behind this token as urgent (first in line on a
    waitlist), else 0."""
    for module in observers():
        hook = getattr(module, "referral_priority", None)
        if hook is not None and hook(referral_token=referral_token):
            return 1
    return 0


def patient_erased(*, patient: Patient, phone: str) -> None:
    for module in observers():
        hook = getattr(module, "patient_erased", None)
        if hook is not None:
            hook(patient=patient, phone=phone)
