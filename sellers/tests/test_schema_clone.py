"""The template copy gives every seller exactly the template's tables, constraints and
indexes, whatever the number of sellers."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import connection, connections
from django_tenants.utils import schema_context

from sellers.models import Seller
from sellers.schema_clone import CloneNotSupported, clone_schema, clone_statements

pytestmark = pytest.mark.django_db

SIGNATURE_SQL = """
SELECT 'column', c.relname, a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
       || ' ' || a.attnotnull || ' ' || a.attidentity::text || ' ' || coalesce(pg_get_expr(d.adbin, d.adrelid), '')
  FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
 WHERE c.relnamespace = %(ns)s::regnamespace AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped
UNION ALL
SELECT 'constraint', c.relname, con.conname || ' ' || con.contype::text || ' ' || pg_get_constraintdef(con.oid)
  FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid
 WHERE c.relnamespace = %(ns)s::regnamespace
UNION ALL
SELECT 'index', t.relname, i.relname || ' ' || regexp_replace(pg_get_indexdef(i.oid), ' ON \\S+ ', ' ON x ')
  FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
 WHERE t.relnamespace = %(ns)s::regnamespace
"""


def signature(schema: str) -> set[tuple[str, str, str]]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('search_path', %s, true)", [schema])
        cursor.execute(SIGNATURE_SQL, {"ns": schema})
        rows = {tuple(row) for row in cursor.fetchall()}
        cursor.execute("SELECT set_config('search_path', 'public', true)")
    return rows


def test_a_seller_schema_is_identical_to_the_template(shop_a):
    template = signature(settings.TENANT_TEMPLATE_SCHEMA)
    assert len(template) > 50
    assert signature(shop_a.seller.schema_name) == template


def test_foreign_keys_point_inside_the_new_schema_or_to_public(shop_a):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conname, confrelid::regclass::text FROM pg_constraint "
            "WHERE connamespace = 's_alpha'::regnamespace AND contype = 'f'"
        )
        targets = dict(cursor.fetchall())
    assert targets["sales_variant_product_id_e8f30998_fk_sales_product_id"] == "s_alpha.sales_product"
    assert all(not target.startswith(settings.TENANT_TEMPLATE_SCHEMA) for target in targets.values())
    assert "sellers_user" in " ".join(targets.values())


def test_copied_rows_keep_their_sequences_going(shop_a):
    with connection.cursor() as cursor:
        cursor.execute("SELECT max(id) FROM s_alpha.django_migrations")
        (highest,) = cursor.fetchone()
        cursor.execute(
            "INSERT INTO s_alpha.django_migrations (app, name, applied) VALUES ('x', 'y', now()) RETURNING id"
        )
        assert cursor.fetchone()[0] == highest + 1


def test_a_template_with_objects_the_copier_does_not_know_is_refused():
    with connection.cursor() as cursor:
        cursor.execute("CREATE SCHEMA odd_template")
        cursor.execute("CREATE TABLE odd_template.t (id serial PRIMARY KEY)")
    with pytest.raises(CloneNotSupported, match=r"sequence default on t\.id"):
        clone_statements("odd_template", "odd_copy")
    with connection.cursor() as cursor:
        cursor.execute("CREATE VIEW odd_template.v AS SELECT 1 AS one")
    with pytest.raises(CloneNotSupported, match="relation v"):
        clone_statements("odd_template", "odd_copy")


def test_clone_refuses_to_run_outside_a_transaction(monkeypatch):
    monkeypatch.setattr(connections["default"], "in_atomic_block", False)
    with pytest.raises(RuntimeError, match="transaction"):
        clone_schema("tenant_template", "never")


def test_provisioning_falls_back_to_the_general_clone(monkeypatch, make_shop):
    def refuse(source, target):
        raise CloneNotSupported("a view")

    monkeypatch.setattr("sellers.models.clone_schema", refuse)
    shop = make_shop("fallback")
    assert signature(shop.seller.schema_name) == signature(settings.TENANT_TEMPLATE_SCHEMA)


def test_a_template_behind_the_code_is_caught_up_by_a_real_migrate(make_shop):
    template = settings.TENANT_TEMPLATE_SCHEMA
    with connection.cursor() as cursor:
        # The template as it was before the sales app existed: none of its tables, no migration.
        cursor.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = %s AND tablename LIKE 'sales\\_%%'", [template]
        )
        tables = [f"{template}.{name}" for (name,) in cursor.fetchall()]
        assert f"{template}.sales_catalogimport" in tables
        cursor.execute(f"DROP TABLE {', '.join(tables)} CASCADE")
        cursor.execute(f"DELETE FROM {template}.django_migrations WHERE app = 'sales'")
    shop = make_shop("late")
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('s_late.sales_catalogimport') IS NOT NULL")
        assert cursor.fetchone()[0]
    with schema_context("s_late"):
        from sales.models import Product

        assert Product.objects.count() == 0
    assert Seller.objects.filter(slug="late").exists() and shop.seller.schema_name == "s_late"
