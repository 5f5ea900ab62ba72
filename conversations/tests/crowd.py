"""Customers writing from threads to the real processes (ma5zani.testing.LiveStack), on the
widget's HTTP path and over WhatsApp (the gateways' loopback clients, WA_FAKE_INBOX=1), and the
checks of what they got: each message stored once, each burst answered once, each WhatsApp
answer sent once.

A burst is what a customer writes before the bot answers: one answer per burst, replying to its
latest message (`conversation_reply` answers the latest message only, and drops a draft when a
newer one arrived; ids follow the conversation's lock, so "before" is "a smaller id").
"""

from __future__ import annotations

import itertools
import json
import os
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django_tenants.utils import get_public_schema_name, schema_context

from channels_app.models import ChannelAccount, WhatsAppSession
from channels_app.whatsapp import outbox
from channels_app.whatsapp.testing import acknowledged, customer_write, unacknowledged
from channels_app.widget.services import widget_account_ensure
from conversations.models import Message
from ma5zani.celery import Queue
from ma5zani.testing import LiveStack, wait_for

INTERRUPTED_ERROR = "may have reached the customer"  # conversations.reasons: "unknown_outcome"
_numbers = itertools.count(1)


@dataclass(frozen=True)
class SellerChannels:
    """A shop with its widget key and a linked WhatsApp session (held by the gateways)."""

    schema: str
    key: str
    account_id: int
    session_id: int

    @property
    def session_key(self) -> str:
        return f"seller-{self.account_id}"  # the gateway's name for the session's client


def seller_with_channels(shop: Any) -> SellerChannels:
    key = widget_account_ensure(shop.seller).external_id
    number = f"2136611{next(_numbers):05d}"
    with schema_context(get_public_schema_name()):
        account = ChannelAccount.objects.create(seller=shop.seller, channel="whatsapp", external_id=number)
        session = WhatsAppSession.objects.create(
            account=account, jid=f"{number}@s.whatsapp.net", state=WhatsAppSession.State.CONNECTING
        )
    return SellerChannels(schema=shop.seller.schema_name, key=key, account_id=account.pk, session_id=session.pk)


def holders() -> dict[int, tuple[str, str]]:
    """WhatsApp sessions: id -> (lease owner, state)."""
    with schema_context(get_public_schema_name()):
        rows = WhatsAppSession.objects.values_list("pk", "lease_owner", "state")
        return {pk: (owner, state) for pk, owner, state in rows}


class Writers:
    """Threads that each repeat one customer's action until stopped; the first error is kept."""

    def __init__(self) -> None:
        self.stopping = threading.Event()
        self.threads: list[threading.Thread] = []
        self.errors: list[BaseException] = []

    def run(self, action: Callable[[], None], pause: float) -> None:
        def loop() -> None:
            try:
                while not self.stopping.is_set():
                    action()
                    self.stopping.wait(pause)  # the customers' rhythm, not a wait for the system
            except BaseException as error:
                self.errors.append(error)

        thread = threading.Thread(target=loop, daemon=True)
        thread.start()
        self.threads.append(thread)

    def stop(self, timeout: float = 120) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout)
        assert not any(thread.is_alive() for thread in self.threads), "a customer is still writing"
        assert not self.errors, self.errors


class WidgetCustomers:
    """Visitors writing bursts of one or two messages to the web processes in turn, like widgets:
    a message the server did not take (an error, a timeout, a web process killed) is sent again
    with the same client_id to the next web process until one answers 201 (stored) or 200
    (stored already). Failures of posts made after `strict` is set are noted."""

    def __init__(
        self, stack: LiveStack, sellers: list[SellerChannels], webs: Callable[[], list[str | None]] | None = None
    ) -> None:
        self.stack, self.sellers = stack, sellers
        self.webs = webs or (lambda: [None])
        self.accepted: dict[str, set[int]] = {seller.schema: set() for seller in sellers}
        self.by_web: Counter[str | None] = Counter()  # messages each web process took
        self.lock = threading.Lock()
        self.strict = threading.Event()
        self.failures_after_strict: list[str] = []
        self._turn = itertools.count()

    @property
    def count(self) -> int:
        with self.lock:
            return sum(len(ids) for ids in self.accepted.values())

    def burst(self) -> None:
        n = next(self._turn)
        seller = self.sellers[n % len(self.sellers)]
        visitor = str(uuid.uuid4())
        for part in range(1 + n % 2):
            self.post(seller, visitor, f"Salam, kayen had l modele w{n}-{part}?")

    def post(self, seller: SellerChannels, visitor: str, text: str) -> int:
        client_id, strict = str(uuid.uuid4()), self.strict.is_set()
        data = json.dumps({"key": seller.key, "visitor": visitor, "client_id": client_id, "text": text}).encode()
        deadline = time.monotonic() + 120
        for attempt in itertools.count():
            webs = self.webs()
            web = webs[(next(self._turn) + attempt) % len(webs)]
            request = urllib.request.Request(  # noqa: S310 - loopback
                self.stack.url(f"/widget/v1/messages?key={seller.key}", web=web), data=data,
                headers={"Content-Type": "application/json"},
            )  # fmt: skip
            try:
                with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                    message_id = int(json.loads(response.read())["id"])
                with self.lock:
                    self.accepted[seller.schema].add(message_id)
                    self.by_web[web] += 1
                return message_id
            except (urllib.error.URLError, OSError, KeyError) as error:
                if strict:
                    self.failures_after_strict.append(f"{client_id} on {web}: {error}")
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)  # a widget's pause before it sends again
        raise AssertionError("unreachable")


class WhatsAppCustomers:
    """Customers writing bursts of one or two messages to the sellers' WhatsApp numbers; a
    message is accepted once a gateway's client acknowledged it (after the handler stored it)."""

    def __init__(self, sellers: list[SellerChannels]) -> None:
        self.sellers = sellers
        self.written: dict[str, set[str]] = {seller.schema: set() for seller in sellers}
        self._turn = itertools.count()
        self._prefix = f"3A{os.getpid():06X}"

    def burst(self) -> None:
        n = next(self._turn)
        seller = self.sellers[n % len(self.sellers)]
        chat = f"2135{n:08d}@s.whatsapp.net"
        for part in range(1 + n % 2):
            message_id = f"{self._prefix}{n:06d}{part}"
            customer_write(seller.session_key, chat=chat, text=f"Salam, 3andkom had l modele wa{n}-{part}?",
                           message_id=message_id)  # fmt: skip
            self.written[seller.schema].add(message_id)

    @property
    def count(self) -> int:
        return sum(len(ids) for ids in self.written.values())

    def waiting(self) -> int:
        return sum(unacknowledged(seller.session_key) for seller in self.sellers)

    def acknowledged(self) -> Counter[str]:
        return Counter(item["id"] for item in acknowledged())


# --- What was stored ------------------------------------------------------------------------

COLUMNS = ("id", "conversation_id", "channel", "direction", "author", "reply_to_id", "status", "error", "external_id")


@dataclass(frozen=True)
class Row:
    id: int
    conversation_id: int
    channel: str
    direction: str
    author: str
    reply_to_id: int | None
    status: str
    error: str
    external_id: str | None


def stored(schema: str) -> list[Row]:
    with schema_context(schema):
        return [Row(*values) for values in Message.objects.order_by("id").values_list(*COLUMNS)]


def bot_answers(rows: list[Row]) -> list[Row]:
    return [row for row in rows if row.author == Message.Author.BOT]


def unanswered(rows: list[Row]) -> list[int]:
    """Conversations whose latest customer message has no answer, or whose answer is still
    queued: what is still to come."""
    latest: dict[int, int] = {}
    for row in rows:
        if row.direction == Message.Direction.IN:
            latest[row.conversation_id] = row.id
    answered = {row.reply_to_id for row in bot_answers(rows) if row.status != Message.Status.QUEUED}
    return sorted(conversation for conversation, inbound in latest.items() if inbound not in answered)


@dataclass
class Bursts:
    """Each conversation read in id order: the customer's messages since the last answer are
    one burst, and the next bot answer must reply to its latest message."""

    answers: int = 0
    problems: list[str] = field(default_factory=list)


def bursts(rows: list[Row]) -> Bursts:
    result = Bursts()
    by_conversation: dict[int, list[Row]] = {}
    for row in rows:
        by_conversation.setdefault(row.conversation_id, []).append(row)
    for conversation, messages in by_conversation.items():
        burst: list[Row] = []
        for row in messages:
            if row.direction == Message.Direction.IN:
                burst.append(row)
            elif row.author == Message.Author.BOT:
                if not burst:
                    result.problems.append(f"conversation {conversation}: answer {row.id} to no new message")
                elif row.reply_to_id != burst[-1].id:
                    result.problems.append(
                        f"conversation {conversation}: answer {row.id} replies to {row.reply_to_id}, "
                        f"not to the burst's latest message {burst[-1].id}"
                    )
                result.answers += 1
                burst = []
            else:
                result.problems.append(f"conversation {conversation}: unexpected {row.author} message {row.id}")
        if burst:
            result.problems.append(f"conversation {conversation}: burst ending at {burst[-1].id} has no answer")
    replied = Counter(row.reply_to_id for row in bot_answers(rows))
    result.problems += [f"message {pk} answered {n} times" for pk, n in replied.items() if n > 1]
    return result


def wait_until_settled(pending: Callable[[], dict[str, Any]], timeout: float, logs: Any) -> None:
    """Wait until `pending()` (what is still to come, by kind) is empty; say what was left."""
    left: dict[str, Any] = {}

    def done() -> bool:
        left.clear()
        left.update({kind: value for kind, value in pending().items() if value})
        return not left

    try:
        wait_for(done, timeout, interval=0.5, message="every burst answered")
    except AssertionError as error:
        raise AssertionError(f"{error}; still waiting for {left} (logs in {logs})") from None


def broker_idle() -> bool:
    """Nothing waits in the Celery queues of this test run, none is held by a worker (the
    Redis transport's unacked hash: delayed tasks, tasks under way), nothing waits in the
    sellers' WhatsApp outbound streams: nothing in flight could still answer or send."""
    r = outbox.client()
    prefix = f"test-{os.environ['TEST_RUN_ID']}:"
    if r.hlen(f"{prefix}unacked"):
        return False
    for queue in Queue:
        for key in r.scan_iter(match=f"{prefix}{queue.value}*", count=100):
            if r.type(key) == "list" and r.llen(key):
                return False
    return all(not r.xlen(key) for key in r.scan_iter(match=outbox.stream_key(0)[:-1] + "*", count=100))
