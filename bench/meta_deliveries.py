"""The sellers and the deliveries of bench/meta_webhook.py: SELLERS sellers each linked to a
Messenger Page and an Instagram account (rows made directly, tokens encrypted, connected), and
signed deliveries in the shapes of channels_app/meta/tests/fixtures/ with fresh message ids and
customers; the bare endpoint's requests of the baseline."""

from __future__ import annotations

import itertools
import random
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

from common import progress
from widget_load import settle_database

from channels_app.meta.signature import HEADER, meta_json, sign

SETTINGS = "bench.settings_meta"
SLUG_PREFIX = "bench-meta-"
APP_SECRET = "bench-meta-app-secret"  # noqa: S105 (the benchmark's own server's)
APP_ID = "884213097765432"  # the app's own id (its echoes are ignored; none are sent here)
INBOX_APP_ID = 263902037430900  # Meta's Page inbox: an echo of the seller's own reply
STREAM_PREFIX = "bench-meta"  # the reply stream's keys; the broker's are under BROKER_KEY_PREFIX
CLOSED_PORT_URL = "http://127.0.0.1:9"  # discard port: nothing listens, nothing leaves the machine
PAGE_BASE = 104857329400000  # Page ids of the bench sellers (fixtures' shapes, 15 digits)
INSTAGRAM_BASE = 17841458392000000  # Instagram account ids (17 digits)
KNOWN = 5  # customers of each account who wrote before and have a name (no profile asked)
FRESH = 15  # new customers of each account in each run (their profile is asked, as in production)
KNOWN_SHARE = 0.6  # of the messages, from known customers
KINDS = ("text", "image", "read", "echo")
WEIGHTS = (78, 8, 8, 6)
STORED_KINDS = {"text", "image", "echo"}  # each is one row (reads move statuses)
REDELIVERIES = 5  # a delivery not answered 200 is posted again, as Meta does, at most this often
TEXTS = (
    "السلام عليكم، شحال سومة هاد الصاك؟ كاين التوصيل لوهران؟",
    "slm, kayen taille kbira?",
    "Bonsoir, je veux commander deux pièces svp",
    "السلام عليكم، كاين هاد الموديل بالأكحل؟ قداش التوصيل لقسنطينة؟",
    "chhal le prix de la livraison l'alger ?",
    "Hello, is this still available in black?",
    "نحب نطلب واحد، الدفع عند الاستلام؟",
    "wach kayen promo had simana?",
)


@dataclass(frozen=True)
class Account:
    """One linked account of a bench seller, and the customers it already knows."""

    ordinal: int
    schema: str
    channel: str  # messenger, instagram
    external_id: str  # entry.id
    known: tuple[str, ...]


@dataclass(frozen=True)
class Request:
    """One POST, ready to send: its body and headers are built before the clock runs."""

    url: str
    body: bytes
    headers: dict[str, str]
    events: int


def prepare(sellers: int) -> list[Account]:
    """The bench sellers (made once, later runs reuse them), each with a connected Messenger
    Page and Instagram account whose token is encrypted, and KNOWN named customers per account
    whose conversations the bot answers (a previous run's echoes handed them to the seller)."""
    from django.core.management import call_command

    from sellers.models import Seller
    from sellers.services import public_tenant_ensure, seller_provision, template_tenant_ensure

    print(f"Preparing {sellers} sellers, each with a Messenger Page and an Instagram account…", flush=True)
    call_command("migrate_schemas", shared=True, interactive=False, verbosity=0)
    public_tenant_ensure()
    template_tenant_ensure()
    accounts: list[Account] = []
    for index in range(sellers):
        slug = f"{SLUG_PREFIX}{index:02d}"
        seller = Seller.objects.filter(slug=slug).first() or seller_provision(
            name=f"Bench Meta {index:02d}", slug=slug, owner=None
        )
        for channel, base in (("messenger", PAGE_BASE), ("instagram", INSTAGRAM_BASE)):
            ordinal = len(accounts)
            account_pk = _link(seller, channel, str(base + index))
            known = tuple(f"6{ordinal:07d}{k:08d}" for k in range(KNOWN))
            _know_customers(seller.schema_name, channel, account_pk, known)
            accounts.append(Account(ordinal, seller.schema_name, channel, str(base + index), known))
        progress(index + 1, sellers, "sellers")
    call_command(
        "migrate_schemas", "benchapp", tenant=True, schema_name=accounts[0].schema, interactive=False, verbosity=0
    )
    settle_database()
    return accounts


def _link(seller: Any, channel: str, external_id: str) -> int:
    """A linked, connected account (as channels_app/meta/tests/conftest.py `link` makes them)."""
    from django_tenants.utils import get_public_schema_name, schema_context

    from channels_app.models import ChannelAccount, MetaAccount
    from ma5zani.crypto import encrypt

    kind = MetaAccount.Kind.PAGE if channel == "messenger" else MetaAccount.Kind.INSTAGRAM_LOGIN
    with schema_context(get_public_schema_name()):
        account, _ = ChannelAccount.objects.update_or_create(
            channel=channel,
            external_id=external_id,
            defaults={"seller": seller, "display_name": f"Bench {external_id}", "status": "connected"},
        )
        MetaAccount.objects.update_or_create(
            account=account,
            defaults={
                "kind": kind,
                "page_id": external_id if kind == MetaAccount.Kind.PAGE else "",
                "token_encrypted": encrypt(f"bench-token-{external_id}"),
                "state": MetaAccount.State.OK,
            },
        )
    return int(account.pk)


def _know_customers(schema: str, channel: str, account_pk: int, customers: tuple[str, ...]) -> None:
    from django.utils import timezone
    from django_tenants.utils import schema_context

    from channels_app.base import InboundMessage
    from conversations import services as kit
    from conversations.models import Conversation

    now = timezone.now()
    with schema_context(schema):
        kit.ingest_many(
            [
                InboundMessage(
                    channel=channel,
                    channel_account_id=account_pk,
                    sender_id=customer,
                    external_id=f"bench-known-{account_pk}-{customer}",
                    text="Salam",
                    timestamp=now,
                )
                for customer in customers
            ],
            reply=False,
        )
        for number, customer in enumerate(customers):
            kit.identity_set_profile(
                channel=channel, channel_account_id=account_pk, external_id=customer, name=f"Client {number}"
            )
        handed_over = Conversation.objects.filter(channel_account_id=account_pk).exclude(mode=Conversation.Mode.BOT)
        for conversation in handed_over:
            kit.conversation_set_mode(conversation, Conversation.Mode.BOT, reason="bench")


# --- Deliveries -----------------------------------------------------------------------------


class Deliveries:
    """Signed deliveries with fresh message ids, and the rows each should leave: the message
    ids expected per schema, the images (one media follow-up each)."""

    def __init__(self, accounts: list[Account], url: str, run: str, seed: int) -> None:
        self.url = url
        self.run = run
        self.random = random.Random(seed)
        self.by_channel = {
            channel: [a for a in accounts if a.channel == channel] for channel in ("messenger", "instagram")
        }
        self.fresh = {a.external_id: [f"7{run}{a.ordinal:04d}{k:03d}" for k in range(FRESH)] for a in accounts}
        self.sequence = itertools.count()
        self.objects = itertools.cycle(("page", "instagram"))
        self.expected: dict[str, set[str]] = {a.schema: set() for a in accounts}
        self.kind_of: dict[str, str] = {}  # message id → kind, for the report of a lost one
        self.kinds: Counter[str] = Counter()
        self.last_mid: dict[str, str] = {}  # per Instagram account: what a "seen" names

    def batch(self, size: int, count: int) -> list[Request]:
        """`count` deliveries of `size` entries each."""
        return [self.delivery(size) for _ in range(count)]

    def delivery(self, size: int) -> Request:
        object_name = next(self.objects)
        accounts = self.by_channel["messenger" if object_name == "page" else "instagram"]
        entries = []
        for _ in range(size):
            account = self.random.choice(accounts)
            now = int(time.time() * 1000)
            entries.append({"id": account.external_id, "time": now, "messaging": [self.event(account, now)]})
        body = meta_json({"object": object_name, "entry": entries})
        headers = {"Content-Type": "application/json", HEADER: sign(body, APP_SECRET)}
        return Request(self.url, body, headers, size)

    def event(self, account: Account, now: int) -> dict[str, Any]:
        kind = self.random.choices(KINDS, WEIGHTS)[0]
        self.kinds[kind] += 1
        prefix = "m" if account.channel == "messenger" else "ig"
        number = next(self.sequence)
        mid = f"{prefix}_{self.run}_{number}"
        page, known = {"id": account.external_id}, self.random.choice(account.known)
        if kind == "read":
            if account.channel == "messenger":
                read: dict[str, Any] = {"watermark": now - 1000}
            else:
                read = {"mid": self.last_mid.get(account.external_id, f"ig_{self.run}_none")}
            return {"sender": {"id": known}, "recipient": page, "timestamp": now, "read": read}
        self.expected[account.schema].add(mid)
        self.kind_of[mid] = kind
        if kind == "echo":  # the seller answering from Meta's inbox: to a customer who wrote before
            # Each in words of its own, across runs too: an echo whose text the shop sent this
            # customer in the last minutes is taken for one of its own sends
            # (`kit.message_sent_by_shop_recently`).
            text = f"مرحبا، الطلب {self.run}-{number}: السعر 3900 دج والتوصيل 48 ساعة"
            message: dict[str, Any] = {"mid": mid, "is_echo": True, "text": text}
            if account.channel == "messenger":
                message["app_id"] = INBOX_APP_ID
            self.last_mid[account.external_id] = mid
            return {"sender": page, "recipient": {"id": known}, "timestamp": now, "message": message}
        customer = known if self.random.random() < KNOWN_SHARE else self.random.choice(self.fresh[account.external_id])
        if kind == "image":
            url = f"{CLOSED_PORT_URL}/bench/{mid}.jpg"
            message = {"mid": mid, "attachments": [{"type": "image", "payload": {"url": url}}]}
        else:
            message = {"mid": mid, "text": self.random.choice(TEXTS)}
        return {"sender": {"id": customer}, "recipient": page, "timestamp": now, "message": message}

    @property
    def stored_expected(self) -> int:
        return sum(len(mids) for mids in self.expected.values())


def bare_requests(port: int, schema: str, count: int) -> list[Request]:
    url = f"http://localhost:{port}/bench/store-one/?schema={schema}"
    return [Request(url, f"row {n}".encode(), {"Content-Type": "text/plain"}, 1) for n in range(count)]


# --- The server and its processes' CPU ------------------------------------------------------
