"""A PgBouncer process of our own, for the tests and the benchmarks.

Its configuration goes in a temporary folder, it listens on a free port of 127.0.0.1, trusts its
clients (auth_type trust) and opens its server connections to the PostgreSQL each database entry
names. The binary is Debian's (`apt-get install pgbouncer`, 1.18 on bookworm); `deploy/pgbouncer/`
holds the production configuration this mirrors. Nothing here imports Django.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode


def pgbouncer_binary() -> str | None:
    """The pgbouncer executable (PGBOUNCER_PATH, then PATH, then Debian's /usr/sbin), or None."""
    for candidate in (os.environ.get("PGBOUNCER_PATH"), shutil.which("pgbouncer"), "/usr/sbin/pgbouncer"):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def needs_pgbouncer() -> Any:
    """The mark of tests that run a real PgBouncer: skipped when it is not installed, except
    under REQUIRE_PGBOUNCER (CI, `.ci/run`), where a missing PgBouncer is an error."""
    import pytest

    if pgbouncer_binary() is None and os.environ.get("REQUIRE_PGBOUNCER"):
        raise RuntimeError("PgBouncer is required for the pooler tests (apt-get install pgbouncer).")
    return pytest.mark.skipif(
        pgbouncer_binary() is None, reason="PgBouncer is not installed (apt-get install pgbouncer)"
    )


@dataclass(frozen=True)
class PooledDatabase:
    """One `[databases]` entry: clients connect to `alias`, PgBouncer to `dbname` on the server."""

    alias: str
    dbname: str
    host: str = "127.0.0.1"
    port: int = 5432
    user: str = "postgres"
    password: str = ""
    pool_mode: str = "session"
    pool_size: int = 5
    # Run on every new server connection before any client uses it (e.g. SET search_path TO wa).
    connect_query: str = ""

    @classmethod
    def for_settings(cls, settings_dict: Mapping[str, Any], **fields: Any) -> PooledDatabase:
        """The entry for a Django database's settings (HOST may be a Unix socket folder)."""
        return cls(
            dbname=str(settings_dict["NAME"]),
            host=str(settings_dict.get("HOST") or "127.0.0.1"),
            port=int(settings_dict.get("PORT") or 5432),
            user=str(settings_dict.get("USER") or "postgres"),
            password=str(settings_dict.get("PASSWORD") or ""),
            **fields,
        )

    def line(self) -> str:
        fields: dict[str, str | int] = {
            "host": self.host,
            "port": self.port,
            "dbname": self.dbname,
            "user": self.user,
            "pool_mode": self.pool_mode,
            "pool_size": self.pool_size,
        }
        if self.password:
            fields["password"] = self.password
        if self.connect_query:
            fields["connect_query"] = self.connect_query
        return f"{self.alias} = " + " ".join(f"{key}={_quoted(value)}" for key, value in fields.items())


def _quoted(value: str | int) -> str:
    text = str(value)
    if text and all(ch.isalnum() or ch in "._-/" for ch in text):
        return text
    return "'" + text.replace("'", "''") + "'"


class PgBouncer:
    """`with PgBouncer([PooledDatabase(...)]) as bouncer: bouncer.url("alias")`."""

    def __init__(
        self,
        databases: list[PooledDatabase],
        *,
        max_client_conn: int = 1000,
        options: Mapping[str, str | int] | None = None,
    ) -> None:
        self.databases = {database.alias: database for database in databases}
        self.max_client_conn = max_client_conn
        self.options = dict(options or {})
        self.binary = pgbouncer_binary()
        self.host = "127.0.0.1"
        self.port = 0
        self.folder: Path | None = None
        self.process: subprocess.Popen[bytes] | None = None

    # Lifecycle -------------------------------------------------------------------------------

    def start(self, timeout: float = 20.0) -> PgBouncer:
        if self.binary is None:
            raise RuntimeError("pgbouncer is not installed (apt-get install pgbouncer)")
        self.folder = Path(tempfile.mkdtemp(prefix="ma5zani-pgbouncer-"))
        self.port = _free_port()
        config = self.folder / "pgbouncer.ini"
        (self.folder / "userlist.txt").write_text(
            "".join(f'"{db.user}" "{db.password}"\n' for db in {db.user: db for db in self.databases.values()}.values())
        )
        settings: dict[str, str | int] = {
            "listen_addr": self.host,
            "listen_port": self.port,
            "unix_socket_dir": "",
            "auth_type": "trust",
            "auth_file": str(self.folder / "userlist.txt"),
            "admin_users": ",".join(sorted({db.user for db in self.databases.values()})),
            "pool_mode": "session",
            "max_client_conn": self.max_client_conn,
            "logfile": str(self.folder / "pgbouncer.log"),
            "pidfile": str(self.folder / "pgbouncer.pid"),
            **self.options,
        }
        config.write_text(
            "[databases]\n"
            + "".join(db.line() + "\n" for db in self.databases.values())
            + "\n[pgbouncer]\n"
            + "".join(f"{key} = {value}\n" for key, value in settings.items())
        )
        command = [self.binary]
        if os.geteuid() == 0:  # PgBouncer refuses to run as root: it switches to this user
            user = os.environ.get("PGBOUNCER_USER") or _unprivileged_user()
            entry = pwd.getpwnam(user)
            self.folder.chmod(0o755)
            for path in (self.folder, *self.folder.iterdir()):
                os.chown(path, entry.pw_uid, entry.pw_gid)
            command += ["-u", user]
        command += ["--quiet", str(config)]  # its log goes to the logfile only (a pipe would fill up)
        with (self.folder / "stderr.log").open("wb") as stderr:
            self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=stderr)  # noqa: S603
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                error = (self.folder / "stderr.log").read_text(errors="replace")
                raise RuntimeError(f"pgbouncer exited ({self.process.returncode}): {error}{self.log()[-2000:]}")
            try:
                self.admin("SHOW VERSION")
                return self
            except Exception:
                if time.monotonic() > deadline:
                    self.stop()
                    raise
                time.sleep(0.05)

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)

    def cleanup(self) -> None:
        self.stop()
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None

    def __enter__(self) -> PgBouncer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.cleanup()

    # What clients and the tests read ----------------------------------------------------------

    def url(self, alias: str, *, scheme: str = "postgres", **query: str) -> str:
        """A client URL to `alias` (the user of its entry); `query` adds URL parameters."""
        user = quote(self.databases[alias].user, safe="")
        suffix = f"?{urlencode(query)}" if query else ""
        return f"{scheme}://{user}@{self.host}:{self.port}/{alias}{suffix}"

    def admin(self, command: str) -> list[dict[str, Any]]:
        """Rows of an admin console command (SHOW POOLS, SHOW SERVERS, ...) as dicts."""
        import psycopg
        from psycopg.rows import dict_row

        user = next(iter(self.databases.values())).user
        # The console speaks the simple query protocol only: a client-side-binding cursor uses it.
        with psycopg.connect(
            host=self.host,
            port=self.port,
            user=user,
            dbname="pgbouncer",
            autocommit=True,
            cursor_factory=psycopg.ClientCursor,
            connect_timeout=5,
        ) as conn:
            conn.prepare_threshold = None
            with conn.cursor(row_factory=dict_row) as cursor:
                cursor.execute(command)
                return list(cursor.fetchall()) if cursor.description else []

    def server_connections(self, alias: str) -> int:
        """Server connections PgBouncer holds for `alias` (any state)."""
        return sum(1 for row in self.admin("SHOW SERVERS") if row["database"] == alias)

    def client_connections(self, alias: str) -> int:
        return sum(1 for row in self.admin("SHOW CLIENTS") if row["database"] == alias)

    def server_ports(self, alias: str) -> set[int]:
        """The local ports of the server connections of `alias` (PostgreSQL's client_port)."""
        return {int(row["local_port"]) for row in self.admin("SHOW SERVERS") if row["database"] == alias}

    def log(self) -> str:
        if self.folder is None:
            return ""
        path = self.folder / "pgbouncer.log"
        with contextlib.suppress(OSError):
            return path.read_text(errors="replace")
        return ""


def _unprivileged_user() -> str:
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            pwd.getpwnam(name)
            return name
    raise RuntimeError("PgBouncer will not run as root and no postgres/nobody user exists (set PGBOUNCER_USER)")


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
