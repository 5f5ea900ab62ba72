"""Copy the template schema into a new seller's schema, in time that does not grow with the
number of sellers.

django-tenants' `clone_schema` (a general-purpose PL/pgSQL function) introspects the whole
catalog on every call and slowed down with every seller added (measured in
bench/provision.py). The schemas Django builds hold only tables, their constraints, indexes and
identity columns, so this module copies exactly those, reading the catalog by the template's
namespace and table oids only:

1. `CREATE TABLE … (LIKE template.t INCLUDING …)`: columns, defaults, identity, NOT NULL,
   CHECK constraints (with their names), storage, comments;
2. primary-key, unique and exclusion constraints, then the other indexes, under their own names
   (later migrations drop them by name);
3. the template's rows (its django_migrations above all), identity sequences moved past them;
4. foreign keys last, so that they are checked against the copied rows.

Anything else in the template (views, triggers, functions, free-standing sequences, partitioned
tables) makes `clone_schema` raise CloneNotSupported, and the caller falls back to
django-tenants' general clone.
"""

from __future__ import annotations

from django.db import connection


class CloneNotSupported(Exception):
    """The template holds an object this copier does not handle."""


UNSUPPORTED_SQL = """
SELECT 'relation ' || c.relname || ' of kind ' || c.relkind::text
  FROM pg_class c
 WHERE c.relnamespace = %(ns)s
   AND (c.relkind IN ('v', 'm', 'f', 'p', 'c')
        OR (c.relkind = 'S' AND NOT EXISTS (
              SELECT 1 FROM pg_depend d
               WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'i')))
UNION ALL
SELECT 'function ' || p.proname FROM pg_proc p WHERE p.pronamespace = %(ns)s
UNION ALL
SELECT 'type ' || t.typname FROM pg_type t
 WHERE t.typnamespace = %(ns)s AND t.typtype IN ('e', 'd', 'r', 'm')
UNION ALL
SELECT 'trigger ' || tg.tgname FROM pg_trigger tg JOIN pg_class c ON c.oid = tg.tgrelid
 WHERE c.relnamespace = %(ns)s AND NOT tg.tgisinternal
UNION ALL
SELECT 'sequence default on ' || c.relname || '.' || a.attname
  FROM pg_attrdef ad
  JOIN pg_class c ON c.oid = ad.adrelid
  JOIN pg_attribute a ON a.attrelid = ad.adrelid AND a.attnum = ad.adnum
 WHERE c.relnamespace = %(ns)s AND pg_get_expr(ad.adbin, ad.adrelid) LIKE '%%nextval(%%'
"""

TABLES_SQL = """
SELECT c.relname FROM pg_class c
 WHERE c.relnamespace = %(ns)s AND c.relkind = 'r'
 ORDER BY c.oid
"""

# Constraints that own an index first (p, u, x), foreign keys last.
CONSTRAINTS_SQL = """
SELECT con.contype, rel.relname, con.conname, pg_get_constraintdef(con.oid)
  FROM pg_constraint con
  JOIN pg_class rel ON rel.oid = con.conrelid
 WHERE rel.relnamespace = %(ns)s AND con.contype IN ('p', 'u', 'x', 'f')
 ORDER BY con.contype = 'f', con.oid
"""

# pg_get_indexdef always names the table schema-qualified: the qualified name comes along so
# that exactly that part is replaced.
INDEXES_SQL = """
SELECT pg_get_indexdef(i.indexrelid), quote_ident(n.nspname) || '.' || quote_ident(t.relname), t.relname
  FROM pg_index i
  JOIN pg_class t ON t.oid = i.indrelid
  JOIN pg_namespace n ON n.oid = t.relnamespace
 WHERE t.relnamespace = %(ns)s
   AND NOT EXISTS (SELECT 1 FROM pg_constraint con WHERE con.conindid = i.indexrelid)
 ORDER BY i.indexrelid
"""

IDENTITY_SQL = """
SELECT c.relname, a.attname
  FROM pg_attribute a
  JOIN pg_class c ON c.oid = a.attrelid
 WHERE c.relnamespace = %(ns)s AND c.relkind = 'r' AND a.attidentity <> '' AND NOT a.attisdropped
"""

LIKE_OPTIONS = (
    "INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING GENERATED INCLUDING CONSTRAINTS "
    "INCLUDING STORAGE INCLUDING COMMENTS INCLUDING COMPRESSION"
)


def _retarget_index(definition: str, qualified_table: str, target_table: str) -> str:
    for marker in (f" ON ONLY {qualified_table} USING ", f" ON {qualified_table} USING "):
        if marker in definition:
            return definition.replace(marker, marker.replace(qualified_table, target_table), 1)
    raise CloneNotSupported(f"unexpected index definition: {definition}")


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def clone_statements(source: str, target: str) -> list[str]:
    """The SQL that builds `target` as a copy of `source` (read from the catalog now)."""
    quote = connection.ops.quote_name
    src, dst = quote(source), quote(target)
    with connection.cursor() as cursor:
        cursor.execute("SELECT oid FROM pg_namespace WHERE nspname = %s", [source])
        row = cursor.fetchone()
        if row is None:
            raise CloneNotSupported(f"schema {source} does not exist")
        params = {"ns": row[0]}
        cursor.execute(UNSUPPORTED_SQL, params)
        unsupported = [found for (found,) in cursor.fetchall()]
        if unsupported:
            raise CloneNotSupported(", ".join(unsupported))
        cursor.execute(TABLES_SQL, params)
        tables = [name for (name,) in cursor.fetchall()]
        cursor.execute(IDENTITY_SQL, params)
        identities = cursor.fetchall()
        # Definitions are printed relative to the search path: with only the source schema on
        # it, its own tables come out unqualified (and will resolve in the target), while
        # public tables come out qualified.
        cursor.execute("SELECT current_setting('search_path')")
        previous_path = cursor.fetchone()[0]
        cursor.execute("SELECT set_config('search_path', %s, true)", [src])
        cursor.execute(CONSTRAINTS_SQL, params)
        constraints = cursor.fetchall()
        cursor.execute(INDEXES_SQL, params)
        index_rows = cursor.fetchall()
        cursor.execute("SELECT set_config('search_path', %s, true)", [previous_path])
    indexes = [
        _retarget_index(definition, qualified, f"{dst}.{quote(table)}") for definition, qualified, table in index_rows
    ]

    statements = [f"CREATE SCHEMA {dst}"]
    statements += [f"CREATE TABLE {dst}.{quote(t)} (LIKE {src}.{quote(t)} {LIKE_OPTIONS})" for t in tables]
    statements += [
        f"ALTER TABLE {dst}.{quote(table)} ADD CONSTRAINT {quote(name)} {definition}"
        for kind, table, name, definition in constraints
        if kind != "f"
    ]
    statements += indexes
    # Every name below is quoted (identifiers) or escaped (literals); none comes from a user.
    statements += [
        f"INSERT INTO {dst}.{quote(t)} OVERRIDING SYSTEM VALUE SELECT * FROM {src}.{quote(t)}"  # noqa: S608
        for t in tables
    ]
    statements += [
        f"SELECT setval(pg_get_serial_sequence({literal(f'{dst}.{quote(table)}')}, {literal(column)}), m) "  # noqa: S608
        f"FROM (SELECT max({quote(column)}) AS m FROM {dst}.{quote(table)}) AS copied WHERE m IS NOT NULL"
        for table, column in identities
    ]
    # Foreign-key definitions name the template's own tables unqualified: resolve them in the
    # target (public tables come qualified).
    statements.append(f"SET LOCAL search_path = {dst}, public")
    statements += [
        f"ALTER TABLE {dst}.{quote(table)} ADD CONSTRAINT {quote(name)} {definition}"
        for kind, table, name, definition in constraints
        if kind == "f"
    ]
    return statements


def clone_schema(source: str, target: str) -> None:
    """Create `target` as a copy of `source`. Must run inside a transaction (atomic block)."""
    if not connection.in_atomic_block:
        raise RuntimeError("clone_schema must run inside transaction.atomic()")
    statements = clone_statements(source, target)
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('search_path')")
        previous_path = cursor.fetchone()[0]
        for statement in statements:
            cursor.execute(statement)
        # On error the transaction is rolled back, and the search path with it.
        cursor.execute("SELECT set_config('search_path', %s, true)", [previous_path])
