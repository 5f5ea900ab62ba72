"""whatsmeow's store with 500 real neonize clients: PostgreSQL directly, then through PgBouncer
in transaction mode (deploy/pgbouncer/).

Each neonize client opens a database pool of its own in whatsmeow's store and keeps its
connection. The clients here are real neonize 0.5.2 clients of linked devices
(channels_app.whatsapp.offline): `connect()` opens the store and fails to dial WhatsApp through
a closed proxy port, and the store calls (contacts, the LID map) then run on each client's own
connections. They live in one "gateway" process (this script started with --hold), as in
`run_whatsapp_gateway`.

The PostgreSQL is a throwaway server of this script's own (initdb in a temporary folder, on a
free port of 127.0.0.1), never the machine's: `PG_BIN` or the newest /usr/lib/postgresql/*/bin,
else pgserver's binaries.

1. Directly, max_connections above the sessions: server connections (pg_stat_activity), the
   server's memory (PSS of all its processes, from /proc), the gateway process's RSS, store
   calls per second from 16 threads.
2. Directly with the stock max_connections=100: which client fails.
3. Through PgBouncer (transaction mode, pool of --pool-size, connect_query sets the search path,
   binary_parameters=yes) with max_connections=100: the same figures, PgBouncer's memory, then
   every client connecting a second time (the gateway's reconnect after a failed connect:
   neonize opens a new pool each time and never closes the old one).
4. The same through PgBouncer without binary_parameters: store calls that fail.

    python bench/whatsapp_store.py [--sessions 500] [--pool-size 10]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import pwd
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import psycopg
from common import ROOT

from channels_app.whatsapp.offline import OfflineClient, StoreNotOpened, closed_port, linked_devices
from ma5zani.pgbouncer import PgBouncer, PooledDatabase

DATABASE = "store"
APPLICATION = "ma5zani-wa-bench"


# --- A throwaway PostgreSQL -----------------------------------------------------------------


def postgres_bin() -> Path:
    if os.environ.get("PG_BIN"):
        return Path(os.environ["PG_BIN"])
    debian = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name))
    if debian:
        return debian[-1].parent
    from pgserver._commands import POSTGRES_BIN_PATH

    return Path(POSTGRES_BIN_PATH)


class Postgres:
    """initdb in a temporary folder, started on a free port; as `postgres` when we are root."""

    def __init__(self) -> None:
        self.bin = postgres_bin()
        self.folder = Path(tempfile.mkdtemp(prefix="ma5zani-store-pg-"))
        self.data = self.folder / "data"
        self.port = closed_port()
        self.user: str | None = None
        if os.geteuid() == 0:
            self.user = "postgres"
            entry = pwd.getpwnam(self.user)
            self.folder.chmod(0o755)
            os.chown(self.folder, entry.pw_uid, entry.pw_gid)
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "--encoding=UTF8")

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run([str(self.bin / tool), *args], check=True, user=self.user, cwd=self.folder,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)  # fmt: skip

    def start(self, max_connections: int) -> None:
        options = f"-c listen_addresses=127.0.0.1 -c port={self.port} -c max_connections={max_connections} " + (
            f"-c unix_socket_directories={self.folder}"
        )
        self._run("pg_ctl", "-D", str(self.data), "-w", "-l", str(self.folder / "log"), "-o", options, "start")

    def stop(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self._run("pg_ctl", "-D", str(self.data), "-w", "-m", "fast", "stop")

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)

    def connect(self, dbname: str = DATABASE) -> psycopg.Connection[Any]:
        return psycopg.connect(host="127.0.0.1", port=self.port, user="postgres", dbname=dbname, autocommit=True)

    def direct_url(self, **query: str) -> str:
        params = "&".join(f"{k}={v}" for k, v in {"sslmode": "disable", **query}.items())
        return f"postgres://postgres@127.0.0.1:{self.port}/{DATABASE}?{params}"

    def memory_mb(self) -> float:
        """PSS of the postmaster and all its children: the server's share of the machine's memory."""
        pid = int((self.data / "postmaster.pid").read_text().split()[0])
        master = psutil.Process(pid)
        total = 0
        for process in [master, *master.children()]:
            with contextlib.suppress(psutil.Error):
                total += process.memory_full_info().pss
        return total / 2**20

    def backends(self, conn: psycopg.Connection[Any]) -> int:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", [APPLICATION]
        ).fetchone()
        return int(row[0]) if row else 0


# --- The gateway process: this script with --hold ----------------------------------------------


def hold(url: str, sessions: int, prefix: str) -> None:
    """Open `sessions` clients (stop at the first that fails), then obey commands on stdin."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    clients: list[OfflineClient] = []
    proxy = closed_port()
    for n in range(sessions):
        client = OfflineClient(url, phone_number(n), key=f"{prefix}-{n}", proxy_port=proxy)
        try:
            client.open()
        except StoreNotOpened as exc:
            print(f"failed {n + 1} {exc}", flush=True)
            break
        clients.append(client)
    print(f"opened {len(clients)}", flush=True)
    for line in sys.stdin:
        command, *args = line.split()
        if command == "work":
            calls, elapsed, errors = store_calls(clients, rounds=int(args[0]), threads=int(args[1]))
            first = errors[0][:120] if errors else "-"
            print(f"worked {calls} {elapsed:.3f} {len(errors)} {first}", flush=True)
        elif command == "reconnect":
            failed = 0
            for client in clients:
                try:
                    client.open()
                except StoreNotOpened:
                    failed += 1
            print(f"reconnected {len(clients) - failed} {failed}", flush=True)
        elif command == "quit":
            break
    os._exit(0)  # neonize's Go threads: no interpreter shutdown to wait for


def store_calls(clients: list[OfflineClient], *, rounds: int, threads: int) -> tuple[int, float, list[str]]:
    """`rounds` rounds of store work of every client, spread over `threads` threads."""
    errors: list[str] = []

    def work(part: list[OfflineClient]) -> None:
        for round_number in range(rounds):
            for client in part:
                try:
                    client.exercise(round_number)
                except Exception as exc:
                    errors.append(f"{exc.__class__.__name__}: {exc}")

    started = time.perf_counter()
    workers = [threading.Thread(target=work, args=(clients[i::threads],)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    # A write, a LID-map read and a contacts read per client and round.
    return 3 * rounds * len(clients), time.perf_counter() - started, errors


def phone_number(n: int) -> str:
    return f"21355{n:07d}"


class Gateway:
    """The --hold process, driven line by line."""

    def __init__(self, url: str, sessions: int, prefix: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--hold", url, "--sessions", str(sessions), "--prefix", prefix],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            cwd=ROOT,
        )
        self.failure = ""
        self.opened = 0
        for line in self._lines():
            if line.startswith("failed "):
                self.failure = line
            elif line.startswith("opened "):
                self.opened = int(line.split()[1])
                break

    def _lines(self) -> Iterator[str]:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            yield line.strip()

    def ask(self, command: str, answer: str) -> list[str]:
        assert self.process.stdin is not None
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        for line in self._lines():
            if line.startswith(answer):
                return line.split(maxsplit=4)[1:]
        raise RuntimeError(f"the gateway process ended before answering {command!r}")

    def rss_mb(self) -> float:
        return psutil.Process(self.process.pid).memory_info().rss / 2**20

    def quit(self) -> None:
        assert self.process.stdin is not None
        with contextlib.suppress(BrokenPipeError, OSError):
            self.process.stdin.write("quit\n")
            self.process.stdin.close()
        self.process.wait(60)


# --- The runs ---------------------------------------------------------------------------------


def prepare(server: Postgres, sessions: int) -> None:
    with server.connect("postgres") as conn:
        conn.execute(f"CREATE DATABASE {DATABASE}")
    with server.connect() as conn:
        conn.execute("CREATE SCHEMA wa")
    # One client of a new device makes whatsmeow's tables, then the linked devices are written.
    url = server.direct_url(search_path="wa", binary_parameters="yes", application_name="bootstrap")
    maker = subprocess.run(
        [sys.executable, "-c", MAKE_TABLES, url], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    if "opened" not in maker.stdout:
        raise RuntimeError(f"could not make the store's tables: {maker.stdout}{maker.stderr}")
    with server.connect() as conn:
        linked_devices(conn, [phone_number(n) for n in range(sessions)])


MAKE_TABLES = """
import sys
sys.path.insert(0, ".")
from channels_app.whatsapp.offline import OfflineClient
client = OfflineClient(sys.argv[1], None, key="bootstrap-new")
client.open()
print("opened")
import os
os._exit(0)
"""


def measure(gateway: Gateway, server: Postgres, rounds: int, idle_mb: float) -> dict[str, Any]:
    """Connections once the clients are open; memory and connections after they worked."""
    with server.connect() as conn:
        opened_backends = server.backends(conn)
    figures: dict[str, Any] = {"opened": gateway.opened, "backends_open": opened_backends, "idle_mb": idle_mb}
    calls, elapsed, errors, first = gateway.ask(f"work {rounds} 16", "worked")
    figures.update(calls=int(calls), rate=int(calls) / float(elapsed), errors=int(errors), first_error=first)
    with server.connect() as conn:
        figures["backends"] = server.backends(conn)
    figures["pg_mb"] = server.memory_mb()
    figures["gateway_mb"] = gateway.rss_mb()
    return figures


def reconnect(gateway: Gateway) -> tuple[int, int]:
    done, failed = gateway.ask("reconnect", "reconnected")
    return int(done), int(failed)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=500)
    parser.add_argument("--pool-size", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--hold", default="")
    parser.add_argument("--prefix", default="bench")
    args = parser.parse_args()
    if args.hold:
        hold(args.hold, args.sessions, args.prefix)
        return

    sessions = args.sessions
    server = Postgres()
    print(f"PostgreSQL {server.bin}, neonize 0.5.2, {sessions} clients", flush=True)
    try:
        server.start(max_connections=sessions + 50)
        prepare(server, sessions)

        print(f"1. directly, max_connections={sessions + 50}…", flush=True)
        idle_mb = server.memory_mb()
        gateway = Gateway(server.direct_url(search_path="wa", binary_parameters="yes", application_name=APPLICATION),
                          sessions, "direct")  # fmt: skip
        direct = measure(gateway, server, args.rounds, idle_mb)
        direct["reconnected"], direct["reconnect_failed"] = reconnect(gateway)
        gateway.quit()

        server.stop()
        server.start(max_connections=100)
        print("2. directly, max_connections=100…", flush=True)
        gateway = Gateway(server.direct_url(search_path="wa", binary_parameters="yes", application_name=APPLICATION),
                          sessions, "stock")  # fmt: skip
        stock_failure, stock_opened = gateway.failure, gateway.opened
        gateway.quit()

        print(f"3. through PgBouncer (transaction mode, pool {args.pool_size}), max_connections=100…", flush=True)
        entry = PooledDatabase(
            alias="ma5zani_wa",
            dbname=DATABASE,
            port=server.port,
            pool_mode="transaction",
            pool_size=args.pool_size,
            connect_query="SET search_path TO wa",
        )
        with PgBouncer([entry], max_client_conn=4 * sessions + 100) as bouncer:
            idle_mb = server.memory_mb()
            url = bouncer.url("ma5zani_wa", sslmode="disable", binary_parameters="yes", application_name=APPLICATION)
            gateway = Gateway(url, sessions, "pooled")
            pooled = measure(gateway, server, args.rounds, idle_mb)
            pooled["clients"] = bouncer.client_connections("ma5zani_wa")
            pooled["reconnected"], pooled["reconnect_failed"] = reconnect(gateway)
            pooled["clients_after_reconnect"] = bouncer.client_connections("ma5zani_wa")
            pooled["servers_after_reconnect"] = bouncer.server_connections("ma5zani_wa")
            pooled["gateway_mb_after_reconnect"] = gateway.rss_mb()
            assert bouncer.process is not None
            pooled["bouncer_mb"] = psutil.Process(bouncer.process.pid).memory_info().rss / 2**20
            gateway.quit()

            print("4. through PgBouncer without binary_parameters…", flush=True)
            few = max(sessions // 10, 20)
            url = bouncer.url("ma5zani_wa", sslmode="disable", application_name=APPLICATION)
            gateway = Gateway(url, few, "unsafe")
            calls, _elapsed, errors, first = gateway.ask("work 1 16", "worked")
            unsafe = {"clients": few, "calls": int(calls), "errors": int(errors), "first_error": first}
            gateway.quit()
    finally:
        server.cleanup()

    report(sessions, args.pool_size, direct, stock_opened, stock_failure, pooled, unsafe)


def report(
    sessions: int,
    pool_size: int,
    direct: dict[str, Any],
    stock_opened: int,
    stock_failure: str,
    pooled: dict[str, Any],
    unsafe: dict[str, Any],
) -> None:
    def ratio(a: float, b: float) -> str:
        return f"{a / b:.1f}x" if b > 0 else "-"

    direct_extra, pooled_extra = direct["pg_mb"] - direct["idle_mb"], pooled["pg_mb"] - pooled["idle_mb"]
    print()
    title = f"{sessions} real neonize clients (whatsmeow's store)"
    print(f"{title:<49} directly   PgBouncer, transaction, pool {pool_size}   ratio")
    rows = [
        ("clients open", direct["opened"], pooled["opened"], ""),
        ("server connections, clients open", direct["backends_open"], pooled["backends_open"],
         ratio(direct["backends_open"], pooled["backends_open"])),
        ("server connections after the store calls", direct["backends"], pooled["backends"],
         ratio(direct["backends"], pooled["backends"])),
        ("PostgreSQL memory, MB (PSS of all processes)", f"{direct['pg_mb']:.0f}", f"{pooled['pg_mb']:.0f}",
         ratio(direct["pg_mb"], pooled["pg_mb"])),
        ("  over the same server idle, MB", f"{direct_extra:.0f}", f"{pooled_extra:.0f}",
         ratio(direct_extra, pooled_extra)),
        ("PgBouncer RSS, MB", "-", f"{pooled['bouncer_mb']:.0f}", ""),
        ("gateway process RSS, MB", f"{direct['gateway_mb']:.0f}", f"{pooled['gateway_mb']:.0f}",
         ratio(direct["gateway_mb"], pooled["gateway_mb"])),
        ("store calls per second (16 threads)", f"{direct['rate']:.0f}", f"{pooled['rate']:.0f}",
         ratio(direct["rate"], pooled["rate"])),
        ("store calls failed", f"{direct['errors']}/{direct['calls']}", f"{pooled['errors']}/{pooled['calls']}", ""),
    ]  # fmt: skip
    for label, a, b, r in rows:
        print(f"  {label:<46} {a!s:>8}   {b!s:>32}  {r:>6}")
    print()
    print("PostgreSQL's stock max_connections=100:")
    if stock_failure:
        number, _, error = stock_failure.removeprefix("failed ").partition(" ")
        print(f"  directly: client {number} fails ({stock_opened} open): {error[:150]}")
    else:
        print(f"  directly: all {stock_opened} clients open")
    print(f"  through PgBouncer: all {pooled['opened']} open, {pooled['backends']} server connections after the calls")
    print()
    print("Every client connecting a second time (the gateway's reconnect; neonize keeps the old pool open):")
    print(
        f"  directly: {direct['reconnected']} reconnected, {direct['reconnect_failed']} failed "
        f"(max_connections={sessions + 50})"
    )
    print(
        f"  through PgBouncer: {pooled['reconnected']} reconnected, {pooled['reconnect_failed']} failed; client "
        f"connections {pooled['clients']} -> {pooled['clients_after_reconnect']}, server connections "
        f"{pooled['servers_after_reconnect']}; gateway RSS {pooled['gateway_mb_after_reconnect']:.0f} MB"
    )
    print()
    print(
        f"Through PgBouncer without binary_parameters: {unsafe['errors']} of {unsafe['calls']} store calls of "
        f"{unsafe['clients']} clients failed ({unsafe['first_error']})"
    )


if __name__ == "__main__":
    main()
