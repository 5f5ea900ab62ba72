"""whatsmeow's store through a real PgBouncer in transaction mode: real neonize clients (each
with a database pool of its own) share a few server connections, and every store call works.

The clients open the store and fail to dial WhatsApp through a closed proxy port
(`channels_app.whatsapp.offline`); PgBouncer is Debian's, a process of the test's own whose
entry sets the search path to `wa` on each server connection (connect_query), as
deploy/pgbouncer/pgbouncer.ini does.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from channels_app.whatsapp.client import store_schema, store_schema_check, store_url
from channels_app.whatsapp.offline import OfflineClient, forget_devices, linked_devices
from ma5zani.pgbouncer import PgBouncer, PooledDatabase, needs_pgbouncer
from ma5zani.testing import committed_db, wait_for

pytestmark = [committed_db, needs_pgbouncer()]

CLIENTS = 30
POOL_SIZE = 3


def direct() -> psycopg.Connection[Any]:
    db = connection.settings_dict
    return psycopg.connect(
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
        user=db["USER"] or "postgres",
        password=db["PASSWORD"] or None,
        dbname=db["NAME"],
        autocommit=True,
    )


@pytest.fixture
def bouncer() -> Iterator[PgBouncer]:
    db = connection.settings_dict
    store = PooledDatabase.for_settings(
        db, alias="ma5zani_wa", pool_mode="transaction", pool_size=POOL_SIZE, connect_query="SET search_path TO wa"
    )
    # The same database without the search path: what a forgotten connect_query gives.
    bare = PooledDatabase.for_settings(db, alias="ma5zani_bare", pool_mode="transaction", pool_size=1)
    with PgBouncer([store, bare], max_client_conn=200) as running:
        yield running


@pytest.fixture
def store_through(bouncer: PgBouncer, settings: Any) -> Iterator[str]:
    """WHATSAPP_STORE_URL pointed at PgBouncer; the store's tables made through it."""
    name = f"ma5zani-wa-{uuid.uuid4().hex[:8]}"
    settings.WHATSAPP_STORE_URL = bouncer.url("ma5zani_wa", application_name=name, sslmode="disable")
    yield name


def test_store_url_sends_each_query_in_one_round_trip(settings):
    assert "binary_parameters=yes" in store_url()  # the project database's own URL
    settings.WHATSAPP_STORE_URL = "postgres://postgres@127.0.0.1:6432/ma5zani_wa?sslmode=disable"
    assert store_url() == "postgres://postgres@127.0.0.1:6432/ma5zani_wa?sslmode=disable&binary_parameters=yes"
    settings.WHATSAPP_STORE_URL = "postgres://postgres@127.0.0.1:6432/ma5zani_wa?binary_parameters=no"
    assert store_url().endswith("?binary_parameters=no")  # said explicitly: left alone


def test_the_default_store_opens_in_wa():
    assert store_schema() == "wa"
    store_schema_check()


def test_the_gateway_refuses_a_pooled_store_without_the_search_path(bouncer, settings):
    settings.WHATSAPP_STORE_URL = bouncer.url("ma5zani_bare", sslmode="disable")
    assert store_schema() == "public"
    with pytest.raises(ImproperlyConfigured, match="connect_query"):
        store_schema_check()


def test_thirty_real_clients_share_three_server_connections(bouncer, store_through):
    application_name = store_through
    url = store_url()
    assert "search_path" not in url  # PgBouncer refuses that startup parameter
    store_schema_check()  # through PgBouncer, the search path is wa

    run = uuid.uuid4().hex[:6]
    # A client of a new device opens the store first: it makes or upgrades the tables.
    bootstrap = OfflineClient(url, None, key=f"pool-{run}-new")
    bootstrap.open()
    bootstrap.stop()
    phones = [f"2135{int(run, 16) % 10**5:05d}{n:03d}" for n in range(CLIENTS)]
    with direct() as conn:
        linked_devices(conn, phones)
    clients = [OfflineClient(url, phone, key=f"pool-{run}-{n}") for n, phone in enumerate(phones)]
    peak = {"servers": 0}
    sampling = threading.Event()

    def sample() -> None:
        with direct() as conn:
            while not sampling.wait(0.02):
                row = conn.execute(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND application_name = %s",
                    [application_name],
                ).fetchone()
                peak["servers"] = max(peak["servers"], int(row[0]) if row else 0)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    errors: list[str] = []
    try:
        for client in clients:
            client.open()
        clients_connected = bouncer.client_connections("ma5zani_wa")

        def work(part: list[OfflineClient]) -> None:
            for round_number in range(5):
                for client in part:
                    try:
                        client.exercise(round_number)
                    except Exception as exc:  # reported below
                        errors.append(f"{client.phone}: {exc.__class__.__name__}: {exc}")

        workers = [threading.Thread(target=work, args=(clients[n::6],)) for n in range(6)]
        for thread in workers:
            thread.start()
        for thread in workers:
            thread.join(120)
        servers = bouncer.server_connections("ma5zani_wa")
    finally:
        sampling.set()
        sampler.join(10)
        for client in clients:
            client.stop()
        with direct() as conn:
            rows = conn.execute(
                "SELECT our_jid, count(*) FROM wa.whatsmeow_contacts WHERE our_jid = ANY(%s) GROUP BY our_jid",
                [[f"{phone}:1@s.whatsapp.net" for phone in phones]],
            ).fetchall()
            public_tables = conn.execute(
                "SELECT count(*) FROM information_schema.tables "
                "WHERE table_schema = 'public' AND table_name LIKE 'whatsmeow%'"
            ).fetchone()
            forget_devices(conn, phones)

    assert errors == []
    assert clients_connected >= CLIENTS  # every client holds its own connection to PgBouncer...
    assert 1 <= peak["servers"] <= POOL_SIZE  # ...and PostgreSQL saw at most the pool
    assert servers <= POOL_SIZE
    assert dict(rows) == {f"{phone}:1@s.whatsapp.net": 5 for phone in phones}
    assert public_tables == (0,)  # every table through PgBouncer is wa's


def test_an_idle_timeout_closes_the_pools_neonize_leaves_behind(settings):
    """neonize opens a new store pool at each connect and never closes the old one: a gateway
    whose sessions reconnect piles up connections. PgBouncer's client_idle_timeout closes the
    idle ones; a live client's next store call reconnects on its own (lib/pq reports the closed
    connection as bad, and Go's database/sql retries on a new one), the forgotten pools stay closed."""
    db = connection.settings_dict
    store = PooledDatabase.for_settings(
        db, alias="ma5zani_wa", pool_mode="transaction", pool_size=2, connect_query="SET search_path TO wa"
    )
    run = uuid.uuid4().hex[:6]
    phones = [f"2136{int(run, 16) % 10**5:05d}{n:03d}" for n in range(10)]
    with PgBouncer([store], options={"client_idle_timeout": 1}) as bouncer:
        settings.WHATSAPP_STORE_URL = bouncer.url("ma5zani_wa", sslmode="disable")
        url = store_url()
        bootstrap = OfflineClient(url, None, key=f"idle-{run}-new")  # the tables, if not there yet
        bootstrap.open()
        with direct() as conn:
            linked_devices(conn, phones)
        clients = [OfflineClient(url, phone, key=f"idle-{run}-{n}") for n, phone in enumerate(phones)]
        errors: list[str] = []
        try:
            for client in clients:
                client.open()
                client.open()  # a reconnect: the first pool is left open, idle
            piled_up = bouncer.client_connections("ma5zani_wa")
            wait_for(lambda: bouncer.client_connections("ma5zani_wa") == 0, 30, message="idle clients closed")
            for client in clients:
                try:
                    client.exercise(0)
                except Exception as exc:  # reported below
                    errors.append(f"{client.phone}: {exc.__class__.__name__}: {exc}")
            after = bouncer.client_connections("ma5zani_wa")
        finally:
            for client in clients:
                client.stop()
            with direct() as conn:
                forget_devices(conn, phones)
    assert piled_up >= 2 * len(clients)
    assert errors == []
    assert after == len(clients)  # one per live client: the forgotten pools did not come back
