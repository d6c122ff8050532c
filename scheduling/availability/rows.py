"""The one statement load_times reads availability with: every kind of row (hours,
overrides, time off and busy times, appointments and held places) as one UNION ALL,
written by hand from the models' own table and column names."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connections, router
from django.db.models import Model

# One statement reads every kind of row load_times needs (UNION ALL): each kind's columns
# go to named places of one shared row, the others are NULL. (kind, place -> field name.)
_PLACES = ("number", "at1", "at2", "at3", "clock1", "clock2", "day", "windows", "status")
_PLACE_TYPES = {  # a typed NULL where a kind leaves a place empty (PostgreSQL needs them)
    "number": "bigint",
    "at1": "timestamp with time zone",
    "at2": "timestamp with time zone",
    "at3": "timestamp with time zone",
    "clock1": "time",
    "clock2": "time",
    "day": "date",
    "windows": "jsonb",
    "status": "varchar",
}
_TIMES = frozenset({"at1", "at2", "at3", "clock1", "clock2"})  # read as text on SQLite


@dataclass(frozen=True)
class Part:
    kind: int
    models: tuple[type[Model], ...]
    places: dict[str, str]  # place -> field name
    where: str = ""
    params: tuple[Any, ...] = ()


def union_rows(parts: Sequence[Part], *, ids: Sequence[int]) -> list[tuple[Any, ...]]:
    """(kind, provider, *places) of every part's rows for these providers, in one statement.

    Hand-written (from the models' own table and column names) because the ORM's query
    building and per-value converters cost more than everything else on these hot paths:
    on SQLite the date-time columns come back as text and are parsed once in C (selectors' `_aware`);
    on PostgreSQL psycopg parses them in C. Another kind of row costs no extra round trip.
    """
    connection = connections[router.db_for_read(parts[0].models[0])]
    quote = connection.ops.quote_name
    text = connection.vendor == "sqlite"
    selects: list[str] = []
    params: list[Any] = []
    for part in parts:
        for each in part.models:
            fields = {f.name: quote(f.column or f.name) for f in each._meta.concrete_fields}
            selected = [str(part.kind), fields["provider"]]
            for place in _PLACES:
                name = part.places.get(place)
                if name is None:
                    selected.append("NULL" if text else f"CAST(NULL AS {_PLACE_TYPES[place]})")
                elif text and place in _TIMES:
                    selected.append(f"CAST({fields[name]} AS text)")
                else:
                    selected.append(fields[name])
            # Only identifiers from the model's metadata are interpolated; values are parameters.
            selects.append(
                f"SELECT {', '.join(selected)} FROM {quote(each._meta.db_table)} "  # noqa: S608
                f"WHERE {fields['provider']} IN ({', '.join(['%s'] * len(ids))})"
                + (" AND " + part.where.format(**fields) if part.where else "")
            )
            params += [*ids, *part.params]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            _use_native_timestamps(cursor.cursor)
        cursor.execute(" UNION ALL ".join(selects), params)
        return cursor.fetchall()


def _use_native_timestamps(raw_cursor: Any) -> None:
    """Let psycopg parse timestamptz in C for this cursor only.

    Django registers a Python subclass of psycopg's loader (to attach its tzinfo), which
    costs ~20 us a value; the session time zone is UTC, so psycopg's own loader gives the
    same aware UTC instants.
    """
    adapters = getattr(raw_cursor, "adapters", None)  # psycopg 3; psycopg2 has none
    if adapters is None:
        return
    from psycopg.types.datetime import TimestamptzLoader

    adapters.register_loader("timestamptz", TimestamptzLoader)
