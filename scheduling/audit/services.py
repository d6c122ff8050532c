"""Writing the access log: one INSERT per request, however many records it showed."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, router
from django.utils import timezone

from scheduling.audit.models import IDENTIFYING_FIELDS, AuditEvent


@dataclass(frozen=True)
class Accessor:
    """Who is reading or changing, and from where (see scheduling.audit.requests)."""

    channel: str
    role: str
    user: Any = None
    organization_id: int | None = None
    ip_address: str | None = None
    user_agent: str = ""
    path: str = ""


@dataclass(frozen=True)
class Subject:
    """One record shown or changed, and the patient it is about (None: not yet a patient)."""

    object_type: str
    object_id: str
    patient_id: int | None


def appointment_subject(appointment: Any) -> Subject:
    return Subject("appointment", str(appointment.pk), appointment.patient_id)


def patient_subject(patient: Any) -> Subject:
    return Subject("patient", str(patient.pk), patient.pk)


def loggable_changes(changes: Mapping[str, tuple[Any, Any]]) -> dict[str, Any]:
    """{field: [old, new]} as JSON for the fields that did change, naming identifying fields
    without their values."""
    out: dict[str, Any] = {}
    for name, (old, new) in changes.items():
        if old == new:
            continue
        out[name] = "changed" if name in IDENTIFYING_FIELDS else [json_value(old), json_value(new)]
    return out


def json_value(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def record_access(
    *,
    accessor: Accessor,
    action: str,
    subjects: Iterable[Subject],
    changes: Mapping[str, tuple[Any, Any]] | None = None,
) -> int:
    """Append one row per patient shown (or per record that belongs to no patient yet), all
    in one INSERT; nothing when there are none. Returns the number of rows."""
    user = accessor.user if getattr(accessor.user, "is_authenticated", False) else None
    shared = {
        "at": timezone.now(),
        "action": action,
        "channel": accessor.channel,
        "role": accessor.role,
        "actor_user": user.pk if user is not None else None,
        "actor_label": user.get_username()[:150] if user is not None else "",
        "organization_id": accessor.organization_id,
        "changes": loggable_changes(changes) if changes else {},
        "ip_address": accessor.ip_address or None,
        "user_agent": accessor.user_agent[:200],
        "path": accessor.path[:200],
    }
    seen: set[tuple[str, object]] = set()
    rows: list[tuple[int | None, str, str]] = []
    for subject in subjects:
        key: tuple[str, object] = (subject.object_type, subject.object_id)
        if subject.patient_id is not None:
            key = ("patient", subject.patient_id)
        if key not in seen:
            seen.add(key)
            rows.append((subject.patient_id, subject.object_type, subject.object_id[:64]))
    if rows:
        _insert(shared, rows)
    return len(rows)


def _insert(shared: dict[str, Any], rows: list[tuple[int | None, str, str]]) -> None:
    """One INSERT of all the rows, whatever their number: what every row shares as single
    parameters, and the patient, type and id of each row as three arrays (PostgreSQL) or
    one JSON list (SQLite) that the statement unpacks.

    Written by hand: the ORM's multi-row insert sends 14 parameters a row, which psycopg
    parses and quotes one by one (tens of milliseconds for a list of 200 patients), and
    bulk_create() wraps even one statement in a transaction (a BEGIN and a COMMIT besides).
    On PostgreSQL, outside a transaction, the row is committed without waiting for the
    disk (set_config in RETURNING applies to this statement's own transaction only): a
    read costs no flush, and what a database crash could lose is the last fraction of a
    second of reads. A row written inside a transaction commits with it, as durably as the
    change it logs. bench/audit.py swaps this function out to time a request without it.
    """
    connection = connections[router.db_for_write(AuditEvent) or DEFAULT_DB_ALIAS]
    if connection.vendor not in ("postgresql", "sqlite"):  # any other database: the ORM
        common = {k: v for k, v in shared.items() if k != "actor_user"}
        common["actor_user_id"] = shared["actor_user"]
        AuditEvent.objects.bulk_create(
            AuditEvent(**common, patient_id=p, object_type=t, object_id=i) for p, t, i in rows
        )
        return
    fields = {f.name: f for f in AuditEvent._meta.concrete_fields}
    quote = connection.ops.quote_name
    names = [*shared, "patient", "object_type", "object_id"]
    columns = ", ".join(quote(str(fields[name].column)) for name in names)
    params = [fields[name].get_db_prep_save(value, connection) for name, value in shared.items()]
    constants = ", ".join(["%s"] * len(shared))
    table = quote(AuditEvent._meta.db_table)
    if connection.vendor == "postgresql":
        source = "unnest(%s::bigint[], %s::text[], %s::text[]) AS u(p, t, i)"
        varying = "u.p, u.t, u.i"
        params += [[row[0] for row in rows], [row[1] for row in rows], [row[2] for row in rows]]
    else:
        source = "json_each(%s) AS u"
        varying = ", ".join(f"json_extract(u.value, '$[{n}]')" for n in range(3))
        params.append(json.dumps(rows))
    suffix = ""
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        suffix = " RETURNING set_config('synchronous_commit', 'off', true)"
    # Only names from the model's _meta are formatted in; every value is a parameter.
    sql = f"INSERT INTO {table} ({columns}) SELECT {constants}, {varying} FROM {source}{suffix}"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
