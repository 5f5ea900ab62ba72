"""Helpers for the test suite."""

from __future__ import annotations

import os
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
    """The real processes of the Procfile (web, worker, replies, beat, gateways) on the test database."""

    env: dict[str, str]
    port: int = field(default_factory=free_port)
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    logs: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="ma5zani-stack-")))

    def url(self, path: str = "/", host: str = "localhost") -> str:
        return f"http://{host}:{self.port}{path}"

    def _start(self, name: str, command: list[str], extra_env: dict[str, str] | None = None) -> None:
        log = (self.logs / f"{name}.log").open("ab")
        self.processes[name] = subprocess.Popen(  # noqa: S603 - our own interpreter and modules
            command, cwd=ROOT, env={**self.env, **(extra_env or {})}, stdout=log, stderr=subprocess.STDOUT
        )

    def start_web(self) -> None:
        self._start(
            "web", [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(self.port), "ma5zani.asgi:application"]
        )

    def start_worker(self, **extra_env: str) -> None:
        command = [sys.executable, "-m", "celery", "-A", "ma5zani", "worker", "-P", "solo", "-l", "INFO",
                   "--without-mingle", "--without-gossip", "-n", f"test-{time.monotonic_ns()}@%h"]  # fmt: skip
        self._start("worker", command, extra_env)

    def start_replies(self, name: str = "replies", **extra_env: str) -> None:
        """A reply runner (the Procfile's `replies` process)."""
        command = [sys.executable, "manage.py", "run_replies", "--name", f"{name}-{time.monotonic_ns()}"]
        self._start(name, command, extra_env)

    def start_beat(self) -> None:
        schedule = str(self.logs / "beat-schedule")
        self._start("beat", [sys.executable, "-m", "celery", "-A", "ma5zani", "beat", "-l", "INFO", "-s", schedule])

    def start_gateway(self, name: str, **extra_env: str) -> None:
        """A WhatsApp gateway process named `name`, with loopback clients (no WhatsApp here)."""
        command = [sys.executable, "manage.py", "run_whatsapp_gateway", "--fake-clients", "--name", name]
        self._start(name, command, extra_env)

    def kill(self, name: str) -> None:
        process = self.processes.pop(name)
        process.kill()
        process.wait(10)

    def stop(self, name: str) -> None:
        process = self.processes.pop(name, None)
        if process is None:
            return
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)

    def stop_all(self) -> None:
        for name in list(self.processes):
            self.stop(name)

    def wait_web(self, timeout: float = 30) -> None:
        def up() -> bool:
            try:
                with urllib.request.urlopen(self.url("/accounts/login/"), timeout=2) as response:  # noqa: S310
                    return bool(response.status == 200)
            except (urllib.error.URLError, ConnectionError, OSError):
                return False

        wait_for(up, timeout, message=f"the web process (logs in {self.logs})")

    def wait_healthy(self, timeout: float = 60) -> None:
        def healthy() -> bool:
            try:
                with urllib.request.urlopen(self.url("/health/"), timeout=5) as response:  # noqa: S310
                    return bool(response.status == 200)
            except (urllib.error.URLError, ConnectionError, OSError):
                return False

        wait_for(healthy, timeout, interval=0.5, message=f"a healthy stack (logs in {self.logs})")

    def log(self, name: str) -> str:
        path = self.logs / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""


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
