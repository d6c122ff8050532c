"""A patient's accounting: who looked at their records, who changed what (with the old and
new values where their own timelines keep them), and every message sent to anyone about
them (42 CFR Part 2 disclosures, HIPAA 164.528). Reads only; referrals adds its part."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Q

from common.crypto import blind_index
from notifications.models import Notification
from scheduling.audit.models import AuditEvent
from scheduling.models import AppointmentEvent, Patient, PatientEvent


@dataclass(frozen=True)
class Line:
    at: datetime
    kind: str  # access, change or disclosure
    who: str
    what: str

    def render(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} UTC  {self.kind:<10}  {self.who:<32}  {self.what}"


def _who_event(event: Any) -> str:
    user = event.actor_user.get_username() if event.actor_user_id else ""
    return f"{user} ({event.actor})" if user else event.actor


def _changes(data: dict[str, Any]) -> str:
    parts = []
    for name, value in data.items():
        if isinstance(value, list) and len(value) == 2:
            parts.append(f"{name}: {value[0]!r} -> {value[1]!r}")
        else:
            parts.append(f"{name}: {value!r}")
    return "; ".join(parts)


def access_lines(events: Iterable[AuditEvent]) -> list[Line]:
    lines = []
    for e in events:
        who = f"{e.actor_label} ({e.role})" if e.actor_label else e.role
        if e.organization_id:
            who += f" org {e.organization_id}"
        what = f"{e.get_action_display().lower()} {e.object_type} {e.object_id} via {e.channel}"
        if e.changes:
            what += f" [{_changes(e.changes)}]"
        where = ", ".join(part for part in (e.ip_address or "", e.path) if part)
        lines.append(Line(e.at, "access", who, f"{what} ({where})" if where else what))
    return lines


def disclosure_lines(messages: Iterable[Notification], own: frozenset[str]) -> list[Line]:
    lines = []
    for n in messages:
        to = "the patient" if n.recipient in own else "someone else"
        sent = f", sent {n.sent_at:%Y-%m-%d %H:%M}" if n.sent_at else ""
        what = f"{n.channel} '{n.template}' to {n.recipient} ({to}), {n.status}{sent}"
        lines.append(Line(n.created_at, "disclosure", "system", what))
    return lines


def patient_accounting(
    *,
    patient: Patient | None,
    contacts: Sequence[str] = (),
    subjects: Sequence[tuple[str, str]] = (),
    refs: Sequence[str] = (),
    more: Sequence[Line] = (),
) -> list[Line]:
    """Every access, change and disclosure concerning the patient, oldest first.

    `contacts` are the phones and emails messages to the patient went to, `subjects` records
    about them that may belong to no patient row yet (a referral), `refs` the subject_ref
    labels of messages about those records, and `more` lines the caller found itself.
    """
    appointment_ids: list[str] = []
    lines = list(more)
    if patient is not None:
        appointment_ids = [str(pk) for pk in patient.appointments.values_list("pk", flat=True)]
        for pe in PatientEvent.objects.filter(patient=patient).select_related("actor_user"):
            what = f"patient {pe.kind} [{_changes(pe.data)}]"
            lines.append(Line(pe.at, "change", _who_event(pe), what))
        appointment_events = AppointmentEvent.objects.filter(
            appointment_id__in=appointment_ids
        ).select_related("actor_user")
        for ae in appointment_events:
            what = f"appointment {ae.appointment_id} {ae.kind}"
            if ae.from_status != ae.to_status:
                what += f" ({ae.from_status} -> {ae.to_status})"
            if ae.data:
                what += f" [{_changes(ae.data)}]"
            lines.append(Line(ae.at, "change", _who_event(ae), what))

    about = Q(recipient_hash__in=[blind_index(c) for c in contacts if c]) | Q(
        subject_ref__in=[*refs, *(f"appointment:{pk}" for pk in appointment_ids)]
    )
    messages = list(Notification.objects.filter(about).defer("body", "html_body", "attachments"))
    lines += disclosure_lines(messages, frozenset(contacts))

    by_type: dict[str, list[str]] = {"notification": [str(n.pk) for n in messages]}
    for object_type, object_id in subjects:
        by_type.setdefault(object_type, []).append(object_id)
    watched = Q(patient=patient) if patient is not None else Q(pk__in=[])
    for object_type, ids in by_type.items():
        watched |= Q(object_type=object_type, object_id__in=ids)
    lines += access_lines(AuditEvent.objects.filter(watched).order_by("at", "id"))
    return sorted(lines, key=lambda line: line.at)
