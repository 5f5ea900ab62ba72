"""The project's own connections through a real PgBouncer (Debian's, a process of the test's own).

Session mode is the supported setup: a client keeps one server connection while it is connected,
so django-tenants' search path, set once per connection (TENANT_LIMIT_SET_CALLS), stays true, and
PgBouncer's DISCARD ALL clears it (and the prepared statements) before another client gets that
server connection. Many threads alternating two sellers read through fewer server connections
than they are, with the project's psycopg pool and without it, and only ever see their seller's
rows. Transaction mode is refused by the settings, and the last tests show why: one connection's
search path is trusted while its next query runs where another seller's search path was set.
"""

from __future__ import annotations

import configparser
import copy
import os
import random
import shlex
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.db import connections
from django.db.utils import load_backend
from django_tenants.utils import get_public_schema_name, schema_context

from ma5zani.pgbouncer import PgBouncer, PooledDatabase, needs_pgbouncer
from ma5zani.testing import ROOT, committed_db
from ma5zani.testing import tests_database_url as database_url
from sales.models import Product
from sellers.models import Seller
from sellers.services import seller_provision

pytestmark = [committed_db, needs_pgbouncer()]

CATALOGS = {
    "pool-alpha": {"Alpha kettle", "Alpha teapot", "Alpha mug"},
    "pool-bravo": {"Bravo lamp", "Bravo shade"},
}


@pytest.fixture
def sellers(drop_new_sellers: None) -> dict[str, Seller]:
    """Two sellers with different catalogs, committed (PgBouncer's connections must see them)."""
    made: dict[str, Seller] = {}
    for slug, names in CATALOGS.items():
        with schema_context(get_public_schema_name()):
            seller = seller_provision(name=slug.title(), slug=slug, owner=None)
        with schema_context(seller.schema_name):
            for index, name in enumerate(sorted(names)):
                Product.objects.create(code=f"{slug}-{index}", name_fr=name, price=1000 + index)
        made[slug] = seller
    return made


@pytest.fixture(autouse=True)
def _type_oids_of_the_test_database(monkeypatch: pytest.MonkeyPatch) -> None:
    """django.contrib.postgres reads the hstore and citext type oids of each new connection
    through `connections[alias]`; the connections here are made outside settings.DATABASES
    (Django's test case refuses new aliases in threads) and reach the test database: its oids."""
    from django.contrib.postgres import signals

    hstore, citext = signals.get_hstore_oids("default"), signals.get_citext_oids("default")
    monkeypatch.setattr(signals, "get_hstore_oids", lambda alias: hstore)
    monkeypatch.setattr(signals, "get_citext_oids", lambda alias: citext)


def bouncer_for(pool_mode: str, pool_size: int) -> PgBouncer:
    db = connections["default"].settings_dict
    return PgBouncer([PooledDatabase.for_settings(db, alias="ma5zani", pool_mode=pool_mode, pool_size=pool_size)])


class Through:
    """Connections configured like `default` (the project's settings) but through `bouncer`.

    Each thread makes its own (Django's connections belong to one thread); with `pool_max` they
    share one psycopg pool, as a process's threads do."""

    def __init__(self, bouncer: PgBouncer, alias: str, *, pool_max: int | None, prepared: bool = True) -> None:
        self.alias = alias
        self.pool_max = pool_max
        settings_dict = copy.deepcopy(connections["default"].settings_dict)
        settings_dict.update(HOST=bouncer.host, PORT=str(bouncer.port), NAME="ma5zani")
        options = settings_dict.setdefault("OPTIONS", {})
        if pool_max is None:
            options.pop("pool", None)
        else:
            options["pool"] = {**options.get("pool", {}), "min_size": 1, "max_size": pool_max}
        if not prepared:
            options.pop("server_side_binding", None)
            options["prepare_threshold"] = None
        self.settings_dict = settings_dict
        self.opened: list[Any] = []

    def connection(self) -> Any:
        backend = load_backend(self.settings_dict["ENGINE"])
        wrapper = backend.DatabaseWrapper(copy.deepcopy(self.settings_dict), self.alias)
        self.opened.append(wrapper)
        return wrapper

    def close(self) -> None:
        if self.pool_max is not None and self.opened:
            self.opened[0].close_pool()


@contextmanager
def through(bouncer: PgBouncer, alias: str, *, pool_max: int | None, prepared: bool = True) -> Iterator[Through]:
    pooled = Through(bouncer, alias, pool_max=pool_max, prepared=prepared)
    try:
        yield pooled
    finally:
        pooled.close()


# The ORM's own statement for a seller's catalog (table names unqualified: the search path decides).
CATALOG_SQL = str(Product.objects.values_list("name_fr", flat=True).query)


def names_in(connection: Any) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(CATALOG_SQL)
        return {row[0] for row in cursor.fetchall()}


def backend_pid(connection: Any) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return int(cursor.fetchone()[0])


def read_alternately(
    pooled: Through, sellers: dict[str, Seller], *, threads: int, requests: int
) -> tuple[list[str], set[int]]:
    """Threads acting like web requests and tasks: each request switches sellers on its
    connection (once or twice) and reads; the connection is given back at the end of it."""
    errors: list[str] = []
    pids: set[int] = set()
    lock = threading.Lock()
    start = threading.Barrier(threads)

    def worker(number: int) -> None:
        rng = random.Random(number)
        slugs = list(sellers)
        connection = pooled.connection()
        start.wait()
        try:
            for request in range(requests):
                for turn in range(rng.choice((1, 2))):  # a request, or a task that switches schema
                    slug = slugs[(number + request + turn) % len(slugs)]
                    connection.set_tenant(sellers[slug])
                    for _read in range(rng.choice((1, 3))):  # later reads trust the search path
                        seen = names_in(connection)
                        if seen != CATALOGS[slug]:
                            with lock:
                                errors.append(f"thread {number} as {slug} read {sorted(seen)}")
                    with lock:
                        pids.add(backend_pid(connection))
                connection.close()  # the end of the request: back to the pool / to PgBouncer
        except Exception as exc:  # reported by the test
            with lock:
                errors.append(f"thread {number}: {exc.__class__.__name__}: {exc}")
        finally:
            connection.close()

    workers = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join(120)
    assert not any(thread.is_alive() for thread in workers), "readers did not finish"
    return errors, pids


@pytest.mark.parametrize(
    ("pool_max", "prepared"),
    [(3, True), (None, True), (None, False)],
    ids=["psycopg-pool", "no-pool", "no-pool-no-prepared-statements"],
)
def test_session_mode_keeps_every_read_in_its_sellers_schema(sellers, pool_max, prepared):
    """12 clients, 3 server connections: each read returns its own seller's rows only."""
    with (
        bouncer_for("session", pool_size=3) as bouncer,
        through(bouncer, "pooled", pool_max=pool_max, prepared=prepared) as pooled,
    ):
        errors, pids = read_alternately(pooled, sellers, threads=12, requests=15)
        servers = bouncer.server_connections("ma5zani")
    assert errors == []
    # Fewer server connections than clients served them all (PgBouncer shared them).
    assert 1 <= len(pids) <= 3
    assert servers <= 3


@contextmanager
def two_clients(bouncer: PgBouncer) -> Iterator[tuple[Any, Any]]:
    """Two connections as the project opens them without its pool: two clients of PgBouncer."""
    with through(bouncer, "clients", pool_max=None, prepared=False) as pooled:
        a, b = pooled.connection(), pooled.connection()
        try:
            yield a, b
        finally:
            a.close()
            b.close()


def interleave(a: Any, b: Any, sellers: dict[str, Seller]) -> set[str]:
    """a reads as alpha, b as bravo, then a reads again as alpha: what a sees the second time."""
    a.set_tenant(sellers["pool-alpha"])
    assert names_in(a) == CATALOGS["pool-alpha"]
    b.set_tenant(sellers["pool-bravo"])
    assert names_in(b) == CATALOGS["pool-bravo"]
    return names_in(a)  # django-tenants does not set the search path again: it was set


def test_transaction_mode_with_the_search_path_set_once_leaks_another_sellers_rows(sellers):
    """Why transaction mode is refused: one server connection shared by two clients; the second
    client's search path is what the first one's next query runs with."""
    with bouncer_for("transaction", pool_size=1) as bouncer, two_clients(bouncer) as (a, b):
        seen = interleave(a, b, sellers)
    assert seen == CATALOGS["pool-bravo"]  # alpha's connection read bravo's catalog


def test_the_same_clients_in_session_mode_see_their_own_rows(sellers):
    with bouncer_for("session", pool_size=2) as bouncer, two_clients(bouncer) as (a, b):
        seen = interleave(a, b, sellers)
    assert seen == CATALOGS["pool-alpha"]


def shipped_configuration() -> tuple[dict[str, dict[str, str]], dict[str, str]]:
    """deploy/pgbouncer/pgbouncer.ini: its database entries (as fields) and its settings."""
    parser = configparser.ConfigParser(delimiters=("=",), comment_prefixes=(";",), interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(ROOT / "deploy" / "pgbouncer" / "pgbouncer.ini")
    entries = {
        alias: dict(field.split("=", 1) for field in shlex.split(line)) for alias, line in parser["databases"].items()
    }
    return entries, dict(parser["pgbouncer"])


def test_the_shipped_configuration_runs_with_debians_pgbouncer(settings):
    """The entries the settings need, and every option accepted by the PgBouncer CI installs."""
    from channels_app.whatsapp.client import store_schema

    entries, options = shipped_configuration()
    assert entries["ma5zani"]["pool_mode"] == "session"
    assert entries["ma5zani_wa"]["pool_mode"] == "transaction"
    assert entries["ma5zani_wa"]["connect_query"] == "SET search_path TO wa"
    assert options["server_reset_query"] == "DISCARD ALL" and options["server_reset_query_always"] == "0"
    local = {"listen_addr", "listen_port", "unix_socket_dir", "logfile", "pidfile", "auth_type", "auth_file"}
    db = connections["default"].settings_dict
    databases = [
        PooledDatabase.for_settings(
            db,
            alias=alias,
            pool_mode=fields["pool_mode"],
            pool_size=int(fields["pool_size"]),
            connect_query=fields.get("connect_query", ""),
        )
        for alias, fields in entries.items()
    ]
    kept = {key: value for key, value in options.items() if key not in local | {"admin_users", "stats_users"}}
    with PgBouncer(databases, options=kept) as bouncer:
        shown = {row["key"]: row["value"] for row in bouncer.admin("SHOW CONFIG")}
        assert all(shown[key] == value for key, value in kept.items()), (kept, shown)
        settings.WHATSAPP_STORE_URL = bouncer.url("ma5zani_wa", sslmode="disable")
        assert store_schema() == "wa"
        assert store_schema(bouncer.url("ma5zani", sslmode="disable")) == "public"


def start_settings(**env: str) -> subprocess.CompletedProcess[str]:
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "ma5zani.settings",
        "DEBUG": "true",
        "DATABASE_URL": database_url(),
        **env,
    }
    code = "import django; django.setup(); from django.conf import settings; print(settings.DB_POOLER_MODE or '-')"
    return subprocess.run(
        [sys.executable, "-c", code], env=environment, cwd=ROOT, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize("mode", ["transaction", "statement"])
def test_the_settings_refuse_a_pooler_that_does_not_keep_the_search_path(mode):
    started = start_settings(DB_POOLER_MODE=mode)
    assert started.returncode != 0
    assert "ImproperlyConfigured" in started.stderr and "session mode" in started.stderr


@pytest.mark.parametrize(("mode", "shown"), [("session", "session"), ("", "-")])
def test_the_settings_accept_session_mode_or_no_pooler(mode: str, shown: str):
    started = start_settings(DB_POOLER_MODE=mode)
    assert started.returncode == 0, started.stderr
    assert started.stdout.split()[-1] == shown
