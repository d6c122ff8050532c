"""What a series change tells whom: one message for the whole series, reminders per visit.

Like scheduling.booking.messages (whose renderers and reminder rules this reuses), every
message is an outbox row recorded in the caller's transaction, its link sealed
(subject "series:<id>", put back at send time by links.token_for_series_message).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.conf import settings

from common.formatting import format_when
from common.timezones import get_zone
from notifications import recording as outbox
from notifications.models import Channel
from scheduling.booking.links import sealed_series_manage_url
from scheduling.booking.messages import record_reminders, render_email, render_sms, sms_name
from scheduling.booking.recurrence import (
    describe,
    describe_first_shift,
    describe_shifts,
    rule_starts,
)
from scheduling.models import Appointment, AppointmentStatus, Series


def _ref(series: Series) -> str:
    return f"series:{series.id}"


def series_context(series: Series, *, link: str | None = None) -> dict[str, Any]:
    """What a message about the series may say, in the patient's zone (and the provider's)."""
    patient, provider = series.patient, series.provider
    own = get_zone(provider.timezone)
    reader = get_zone(patient.timezone)
    starts = rule_starts(series.first_start, own, series.every_weeks, series.count)
    skipped = sorted(datetime.fromisoformat(s) for s in series.skipped)
    return {
        "provider_name": sms_name(provider.name),
        "patient_name": sms_name(patient.name),
        "rule": describe(starts, series.every_weeks, reader),
        "rule_provider": describe(starts, series.every_weeks, own),
        "shift_note": describe_shifts(starts, reader),
        "shift_sms": describe_first_shift(starts, reader),
        "skipped_count": len(skipped),
        "skipped_dates": ", ".join(format_when(s, reader) for s in skipped),
        "manage_url": link or sealed_series_manage_url(),
        "video_url": "",
        "service_name": series.service.name,  # provider emails' bodies only
        "contact_line": settings.SERVICE_CONTACT_LINE,
    }


def _sms(series: Series, name: str, key: str, context: dict[str, Any]) -> list[outbox.Outgoing]:
    patient = series.patient
    if not (patient.sms_consent and patient.phone):
        return []
    body = render_sms(name, context)
    return [
        outbox.Outgoing(
            channel=Channel.SMS,
            recipient=patient.phone,
            template=name,
            body=body,
            dedupe_key=key,
            subject_ref=_ref(series),
        )
    ]


def _email(
    series: Series,
    recipient: str,
    name: str,
    key: str,
    context: dict[str, Any],
    attachment: tuple[bytes, str] | None = None,
) -> list[outbox.Outgoing]:
    if not recipient:
        return []
    email = render_email(name, context)
    attachments = []
    if attachment is not None:
        content, method = attachment
        attachments = [
            {
                "filename": "invite.ics",
                "content_type": "text/calendar",
                "method": method,
                "content": content.decode("utf-8"),
            }
        ]
    return [
        outbox.Outgoing(
            channel=Channel.EMAIL,
            recipient=recipient,
            template=name,
            subject=email.subject,
            body=email.text,
            html_body=email.html,
            attachments=attachments,
            dedupe_key=key,
            subject_ref=_ref(series),
        )
    ]


def _invite(series: Series, appointments: Sequence[Appointment], now: datetime) -> bytes:
    from scheduling.calendar.series import series_invite

    return series_invite(series, appointments, now=now, manage_link=sealed_series_manage_url())


def record_series_booked(
    *, series: Series, appointments: Sequence[Appointment], now: datetime
) -> None:
    """One confirmation (text, email with the series invite), one provider email, and the
    reminders of every visit, recorded in a fixed number of statements."""
    context = series_context(series)
    context["video_url"] = appointments[0].video_url if appointments else ""
    key = f"series-booked:{{}}:{series.id}"
    batch = _sms(series, "series_confirmed", key.format("patient-sms"), context)
    batch += _email(
        series,
        series.patient.email,
        "series_confirmed",
        key.format("patient-email"),
        context,
        (_invite(series, appointments, now), "REQUEST"),
    )
    batch += _email(
        series,
        series.provider.email,
        "provider_series_booked",
        key.format("provider-email"),
        context,
    )
    for appointment in appointments:
        if appointment.status == AppointmentStatus.CONFIRMED:
            record_reminders(appointment=appointment, now=now, batch=batch, new_appointment=True)
    outbox.enqueue_many(batch, new_keys=True)


def record_series_cancelled(
    *,
    series: Series,
    appointments: Sequence[Appointment],
    cancelled: Sequence[Appointment],
    now: datetime,
) -> None:
    """One message for visits cancelled together ("this one and every later one")."""
    context = series_context(series)
    context["when"] = format_when(cancelled[0].start, series.patient.timezone)
    context["cancelled_count"] = len(cancelled)
    key = f"series-cancelled:{{}}:{series.id}:{series.sequence}"
    batch = _sms(series, "series_cancelled", key.format("patient-sms"), context)
    batch += _email(
        series,
        series.patient.email,
        "series_cancelled",
        key.format("patient-email"),
        context,
        (_invite(series, appointments, now), "REQUEST"),
    )
    outbox.enqueue_many(batch)


def record_series_moved(
    *,
    series: Series,
    appointments: Sequence[Appointment],
    moved: Sequence[Appointment],
    now: datetime,
) -> None:
    """One message for visits moved together ("this one and every later one")."""
    context = series_context(series)
    reader = get_zone(series.patient.timezone)
    starts = [m.start for m in moved]
    context["when"] = format_when(starts[0], reader)
    context["moved_rule"] = describe(starts, series.every_weeks, reader)
    key = f"series-moved:{{}}:{series.id}:{series.sequence}"
    batch = _sms(series, "series_moved", key.format("patient-sms"), context)
    batch += _email(
        series,
        series.patient.email,
        "series_moved",
        key.format("patient-email"),
        context,
        (_invite(series, appointments, now), "REQUEST"),
    )
    outbox.enqueue_many(batch)
