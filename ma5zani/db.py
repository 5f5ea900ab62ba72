"""The hot paths' statements: a model's INSERT built once per process, and SQL run as is.

`Model.save()` compiles its INSERT on every call, which costs more CPU than running it; the
message path stores a message for every customer message and every answer. `insert` does what
`save()` does for a new row (each field's `pre_save`, e.g. auto_now_add, and its database
value; the model signals) with a statement made once per model.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from django.db import connection, connections, router
from django.db.models import Field, Model, signals


@cache
def _insert_statement(model: type[Model], using: str) -> tuple[str, tuple[Field, ...]]:
    quote = connections[using].ops.quote_name
    fields = tuple(field for field in model._meta.concrete_fields if not field.primary_key)
    pk = model._meta.pk
    assert pk is not None and getattr(pk, "db_returning", False), "insert() needs a primary key the database makes"
    columns = ", ".join(quote(field.column) for field in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES ({placeholders}) RETURNING {quote(pk.column)}"  # noqa: S608
    return sql, fields


def insert(instance: Model) -> None:
    """Store a new instance (its primary key made by the database) as `instance.save()` would."""
    model = type(instance)
    using = router.db_for_write(model, instance=instance)
    connection = connections[using]
    signals.pre_save.send(sender=model, instance=instance, raw=False, using=using, update_fields=None)
    sql, fields = _insert_statement(model, using)
    values = [field.get_db_prep_save(field.pre_save(instance, True), connection=connection) for field in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        instance.pk = cursor.fetchone()[0]
    instance._state.adding = False
    instance._state.db = using
    signals.post_save.send(sender=model, instance=instance, created=True, update_fields=None, raw=False, using=using)


def execute(sql: str, params: Sequence[Any]) -> None:
    """Run one statement on the default connection (in the current schema)."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def fetch_one(sql: str, params: Sequence[Any]) -> tuple[Any, ...] | None:
    """The first row of one query on the default connection, or None."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return None if row is None else tuple(row)
