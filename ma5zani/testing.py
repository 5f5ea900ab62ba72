"""Helpers for the test suite."""

from __future__ import annotations

import os
import re
import shlex
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent
T = TypeVar("T")

# Tests whose data must be committed (live server, websockets, worker threads). Naming the
# available apps makes Django flush with TRUNCATE … CASCADE afterwards, which the foreign
# keys from seller schemas to public tables (admin log → users, content types) require.
committed_db = pytest.mark.django_db(transaction=True, available_apps=list(settings.INSTALLED_APPS))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def tests_database_url() -> str:
    """The URL of the database the tests run in (pytest-django's test database)."""
    db = connection.settings_dict
    host = quote(str(db["HOST"] or "127.0.0.1"), safe="")
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgres://{db['USER'] or 'postgres'}@{host}{port}/{db['NAME']}"


def wait_for(predicate: Callable[[], T], timeout: float, interval: float = 0.2, message: str = "condition") -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"Timed out after {timeout}s waiting for {message}")


@dataclass
class LiveStack:
    """The real processes of the Procfile on the test database, any number of each kind.

    Kinds: `web` (daphne, each on its own port; the first on `port`), `worker` (a Celery worker:
    the solo pool, or threads with WORKER_CONCURRENCY > 1), `beat`, `gateway` (a WhatsApp
    gateway with loopback clients), and any other line of the Procfile by its name (`replies`:
    the reply runner), run as the Procfile says. Each process is known by a name (its log is
    `<logs>/<name>.log`)."""

    env: dict[str, str]
    port: int = field(default_factory=free_port)
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    kinds: dict[str, str] = field(default_factory=dict)  # name -> kind, of the running processes
    ports: dict[str, int] = field(default_factory=dict)  # web name -> its port
    logs: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="ma5zani-stack-")))
    _counts: dict[str, int] = field(default_factory=dict)

    def url(self, path: str = "/", host: str = "localhost", web: str | None = None) -> str:
        port = self.ports[web] if web else self.port
        return f"http://{host}:{port}{path}"

    def start(self, kind: str, name: str | None = None, **extra_env: str) -> str:
        """Start one process of `kind`; returns its name (`<kind>-<n>` unless given)."""
        if name is None:
            self._counts[kind] = self._counts.get(kind, 0) + 1
            name = f"{kind}-{self._counts[kind]}"
        if name in self.processes:
            raise ValueError(f"{name} is running already")
        env = {**self.env, **extra_env}
        log = (self.logs / f"{name}.log").open("ab")
        self.processes[name] = subprocess.Popen(  # noqa: S603 - our own interpreter and modules
            self._command(kind, name, env), cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
        self.kinds[name] = kind
        return name

    def _command(self, kind: str, name: str, env: dict[str, str]) -> list[str]:
        if kind == "web":
            port = self.port if self.port not in self.ports.values() else free_port()
            self.ports[name] = port
            return [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "ma5zani.asgi:application"]
        if kind == "worker":
            threads = int(env.get("WORKER_CONCURRENCY", "1") or 1)
            pool = ["-P", "threads", "-c", str(threads)] if threads > 1 else ["-P", "solo"]
            return [sys.executable, "-m", "celery", "-A", "ma5zani", "worker", *pool, "-l", "INFO",
                    "--without-mingle", "--without-gossip", "-n", f"{name}-{time.monotonic_ns()}@%h"]  # fmt: skip
        if kind == "beat":
            schedule = str(self.logs / f"{name}-schedule")
            return [sys.executable, "-m", "celery", "-A", "ma5zani", "beat", "-l", "INFO", "-s", schedule]
        if kind == "gateway":
            return [sys.executable, "manage.py", "run_whatsapp_gateway", "--fake-clients", "--name", name]
        line = procfile().get(kind)
        if line is None:
            raise ValueError(f"No process kind {kind!r} (and no such line in the Procfile)")
        return procfile_command(line, env)

    def names(self, kind: str) -> list[str]:
        """The running processes of `kind`, oldest first."""
        return [name for name, of in self.kinds.items() if of == kind]

    def pid(self, name: str) -> int:
        return self.processes[name].pid

    def alive(self, name: str) -> bool:
        return name in self.processes and self.processes[name].poll() is None

    # The methods the first tests used (one process of each kind, named after it).
    def start_web(self) -> None:
        self.start("web", "web")

    def start_worker(self, **extra_env: str) -> None:
        self.start("worker", "worker", **extra_env)

    def start_replies(self, **extra_env: str) -> None:
        """A reply runner (the Procfile's `replies` line)."""
        self.start("replies", "replies", **extra_env)

    def start_beat(self) -> None:
        self.start("beat", "beat")

    def start_gateway(self, name: str, **extra_env: str) -> None:
        """A WhatsApp gateway process named `name`, with loopback clients (no WhatsApp here)."""
        self.start("gateway", name, **extra_env)

    def kill(self, name: str) -> None:
        """SIGKILL: the process gets no chance to clean up, as when its machine dies."""
        process = self.processes.pop(name)
        self.kinds.pop(name, None)
        self.ports.pop(name, None)
        process.kill()
        process.wait(10)

    def stop(self, name: str) -> None:
        process = self.processes.pop(name, None)
        self.kinds.pop(name, None)
        self.ports.pop(name, None)
        if process is None:
            return
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)

    def stop_all(self) -> None:
        for process in self.processes.values():  # all asked at once, then each waited for
            process.terminate()
        for name in list(self.processes):
            self.stop(name)

    def _answers(self, url: str, timeout: float) -> bool:
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - loopback
                return bool(response.status == 200)
        except (urllib.error.URLError, ConnectionError, OSError):
            return False

    def wait_web(self, timeout: float = 30, web: str | None = None) -> None:
        url = self.url("/accounts/login/", web=web)
        wait_for(lambda: self._answers(url, 2), timeout, message=f"the web process (logs in {self.logs})")

    def wait_healthy(self, timeout: float = 60, web: str | None = None) -> None:
        url = self.url("/health/", web=web)
        wait_for(lambda: self._answers(url, 5), timeout, interval=0.5,
                 message=f"a healthy stack (logs in {self.logs})")  # fmt: skip

    def log(self, name: str) -> str:
        path = self.logs / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""


def procfile() -> dict[str, str]:
    """The Procfile's lines by process kind."""
    lines = (ROOT / "Procfile").read_text().splitlines()
    return {
        kind.strip(): command.strip()
        for kind, sep, command in (line.partition(":") for line in lines)
        if sep and kind.strip() and not kind.lstrip().startswith("#")
    }


def procfile_command(line: str, env: dict[str, str]) -> list[str]:
    """A Procfile line as honcho runs it: ${VAR} and ${VAR:-default} from `env`, and `python`
    as this interpreter."""

    def expand(match: re.Match[str]) -> str:
        return env.get(match.group(1)) or (match.group(3) or "")

    words = shlex.split(re.sub(r"\$\{(\w+)(:-([^}]*))?\}", expand, line))
    return [sys.executable if word == "python" else word for word in words]


# Who answers customers when a test starts the processes: the reply runner (the Procfile's
# `replies` processes, REPLY_RUNNER=async) once the Procfile has that line, the Celery workers
# (REPLY_RUNNER=celery) before. The one switch for every such test.
REPLIES = "replies"


def reply_runner() -> str:
    return "async" if REPLIES in procfile() else "celery"


def live_stack_env(**extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "ma5zani.settings_test",
        "DATABASE_URL": tests_database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "REPLY_PAUSE_SECONDS": "0.3",
        "PYTHONUNBUFFERED": "1",
        **extra,
    }
