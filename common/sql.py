"""Hand-written statements for the few hot paths where the ORM's query building costs more
CPU than the database's work (a booking: bench/booking_cost.py).

On this project's machines the ORM spends 0.6-1 ms of CPU building and binding an INSERT
(more for bulk_create on PostgreSQL, whose UNNEST arrays psycopg quotes value by value in
Python), where the round trip itself costs 0.1 ms. These helpers take the same model
metadata and field conversions (pre_save, get_db_prep_save, from_db_value), so encrypted
columns, blind indexes and auto_now behave as with save(); like bulk_create they send no
signals, and errors are Django's (an IntegrityError stays an IntegrityError).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any, TypeVar

from django.db import connections, router
from django.db.models import Model

M = TypeVar("M", bound=Model)


@lru_cache(maxsize=128)
def _insert_sql(model: type[Model], vendor: str, quote: Any, rows: int, with_pk: bool) -> str:
    meta = model._meta
    columns = [f.column for f in meta.concrete_fields if with_pk or not f.primary_key]
    row = f"({', '.join(['%s'] * len(columns))})"
    pk = meta.pk
    assert pk is not None
    # Only identifiers from the model's metadata are interpolated; values are parameters.
    return (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(c) for c in columns)}) "  # noqa: S608
        f"VALUES {', '.join([row] * rows)}" + ("" if with_pk else f" RETURNING {quote(pk.column)}")
    )


def insert(objs: Sequence[M]) -> Sequence[M]:
    """INSERT unsaved instances of one model in one statement; their primary keys are set.

    A primary key with a default (a UUID) is sent; an auto-increment one comes back through
    RETURNING. Where the database returns no rows from an insert, bulk_create does it.
    """
    if not objs:
        return objs
    model = type(objs[0])
    alias = router.db_for_write(model)
    connection = connections[alias]
    meta = model._meta
    pk = meta.pk
    assert pk is not None
    with_pk = getattr(objs[0], pk.attname) is not None
    if not with_pk and not connection.features.can_return_rows_from_bulk_insert:
        return model._default_manager.db_manager(alias).bulk_create(objs)
    fields = [f for f in meta.concrete_fields if with_pk or not f.primary_key]
    params: list[Any] = []
    for obj in objs:
        params += [f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields]
    sql = _insert_sql(model, connection.vendor, connection.ops.quote_name, len(objs), with_pk)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        ids = [] if with_pk else [row[0] for row in cursor.fetchall()]
    for n, obj in enumerate(objs):
        if not with_pk:
            setattr(obj, pk.attname, ids[n])
        obj._state.adding = False
        obj._state.db = alias
    return objs


def instance(model: type[M], alias: str, values: Sequence[Any]) -> M:
    """A model instance from its concrete columns' raw values, with the ORM's converters."""
    connection = connections[alias]
    fields = model._meta.concrete_fields
    converted = []
    for field, value in zip(fields, values, strict=True):
        col = field.get_col(model._meta.db_table)
        for convert in connection.ops.get_db_converters(col) + field.get_db_converters(connection):
            value = convert(value, col, connection)
        converted.append(value)
    return model.from_db(alias, [f.attname for f in fields], converted)
