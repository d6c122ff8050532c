"""The patient's private links to one appointment: manage page and calendar invite.

The manage token is derived (common.tokens) from the appointment id and its salt, so a
reminder rendered days later can carry the link while the database keeps only its hash.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError

from common.tokens import derive_token, hash_token
from notifications.sealing import SEAL
from scheduling.models import Appointment, Series

MANAGE_PURPOSE = "manage"


def manage_token(appointment: Appointment) -> str:
    return derive_token(MANAGE_PURPOSE, appointment.id, appointment.manage_token_salt)


def manage_token_hash(appointment: Appointment) -> str:
    return hash_token(manage_token(appointment))


def manage_url(appointment: Appointment) -> str:
    return f"{settings.PUBLIC_BASE_URL}/m/{manage_token(appointment)}"


def sealed_manage_url(appointment: Appointment) -> str:
    """The manage link as a recorded message holds it: the token is put back at send time."""
    return f"{settings.PUBLIC_BASE_URL}/m/{SEAL}"


def token_for_message(appointment_id: str) -> str | None:
    """The manage token a sealed message about this appointment needs (at send time)."""
    try:
        found = Appointment.objects.filter(pk=appointment_id).only("manage_token_salt").first()
    except (ValueError, ValidationError):
        return None
    return manage_token(found) if found is not None else None


def ics_url(appointment: Appointment) -> str:
    return (
        f"{settings.PUBLIC_BASE_URL}/api/appointments/{appointment.id}/invite.ics"
        f"?token={manage_token(appointment)}"
    )


def appointment_for_token(token: object) -> Appointment | None:
    """The appointment a manage token opens, or None (the hash column is unique)."""
    if not isinstance(token, str) or not token or len(token) > 200:
        return None
    return (
        Appointment.objects.select_related("provider", "service", "patient")
        .filter(manage_token_hash=hash_token(token))
        .first()
    )


# A series has a link of its own, made the same way: derived from (id, salt), hash stored.
SERIES_PURPOSE = "series"


def series_token(series: Series) -> str:
    return derive_token(SERIES_PURPOSE, series.id, series.manage_token_salt)


def series_manage_url(series: Series) -> str:
    return f"{settings.PUBLIC_BASE_URL}/s/{series_token(series)}"


def sealed_series_manage_url() -> str:
    return f"{settings.PUBLIC_BASE_URL}/s/{SEAL}"


def series_ics_url(series: Series) -> str:
    return (
        f"{settings.PUBLIC_BASE_URL}/api/series/{series.id}/invite.ics?token={series_token(series)}"
    )


def token_for_series_message(series_id: str) -> str | None:
    """The series token a sealed message about this series needs (at send time)."""
    try:
        found = Series.objects.filter(pk=series_id).only("manage_token_salt").first()
    except (ValueError, ValidationError):
        return None
    return series_token(found) if found is not None else None


def series_for_token(token: object) -> Series | None:
    """The series a series token opens, or None (the hash column is unique)."""
    if not isinstance(token, str) or not token or len(token) > 200:
        return None
    return (
        Series.objects.select_related("provider", "service", "patient")
        .filter(manage_token_hash=hash_token(token))
        .first()
    )
