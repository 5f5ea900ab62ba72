"""What the widget sends (fixtures/<event>__<variant>.json), one test per fixture: every fixture
has an expectation here, and every expectation a fixture. A frame goes through the consumer's
`receive` and a request through the HTTP view, as they are; only the seller's rows are
replaced (what would be stored is recorded instead), so the test asserts the normalized
InboundMessage, the history asked for, and the exact answer the widget gets."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.utils import timezone

from channels_app.base import InboundMessage
from channels_app.models import ChannelAccount
from channels_app.widget import consumer as consumer_module
from channels_app.widget import views as views_module
from channels_app.widget.consumer import WidgetConsumer
from channels_app.widget.tests.fixtures import fixture, fixture_names, frame_text, http_request
from channels_app.widget.views import WidgetAPIView
from conversations.services import IngestResult
from sellers.models import Seller

KEY = "wk_Nq4vT8bZr2XkLw6Hc1PyGd9s"  # the widget's public key on the shop's pages
VISITOR = "6f1c2a9e-3b7d-4e58-9a0c-d24e81b7f365"  # the visitor id the script keeps in localStorage
SITE = "https://nour-boutique.dz"
SCHEMA = "nour"
CUSTOMER_IP = "105.235.131.7"
# The seller's widget account (never saved: the routing lookups are replaced) and what storing
# a new message returns.
ACCOUNT = ChannelAccount(
    pk=41,
    seller=Seller(schema_name=SCHEMA, slug=SCHEMA, name="Nour Boutique"),
    channel=ChannelAccount.Channel.WIDGET,
    external_id=KEY,
    config={"allowed_origins": [SITE]},
)
STORED = IngestResult(message_id=1843, conversation_id=77, created=True)


def customer(text: str, client_id: str, raw: dict[str, Any]) -> dict[str, Any]:
    """The InboundMessage a customer's text becomes (its timestamp is checked apart); `raw` is
    the frame or body it came in."""
    return {
        "channel": "widget",
        "channel_account_id": ACCOUNT.pk,
        "sender_id": VISITOR,
        "external_id": f"{VISITOR}:{client_id}",
        "text": text,
        "sender_name": "",
        "sender_phone": "",
        "sender_alt_id": "",
        "media": (),
        "choice": None,
        "source": None,
        "extra": {},
        "raw": raw,
    }


def said(text: str, client_id: str) -> dict[str, Any]:
    """A frame the script sends for what the customer typed: stored, then acknowledged."""
    return {
        "answers": [{"type": "ack", "client_id": client_id, "id": STORED.message_id, "duplicate": False}],
        "stored": [customer(text, client_id, {"type": "message", "text": text, "client_id": client_id})],
    }


def refused(code: str, detail: str) -> dict[str, Any]:
    return {"answers": [{"type": "error", "code": code, "detail": detail}]}


def posted(body: dict[str, Any], *, text: str | None = None) -> dict[str, Any]:
    return {
        "status": 201,
        "body": {"id": STORED.message_id, "duplicate": False},
        "allow_origin": SITE,
        "stored": [customer(text or body["text"], body["client_id"], body)],
    }


def http_refused(status: int, code: str, detail: str, *, allow_origin: str | None = SITE) -> dict[str, Any]:
    return {"status": status, "body": {"code": code, "detail": detail}, "allow_origin": allow_origin}


BAD_TEXT = "The text holds a character that cannot be stored (a NUL character or a broken Unicode sequence)."
TOO_LONG = "text is limited to 2000 characters."

# Per fixture: the frames or the HTTP answer the widget gets, the messages stored, the
# histories read (the id after which).
EXPECTED: dict[str, dict[str, Any]] = {
    "socket__message": said("Bonjour, vous avez ce modèle en 38 ?", "0b6f3e2a-8c41-4d7e-b5a9-1f2c3d4e5a6b"),
    "socket__message_arabic": said(
        "السلام عليكم، شحال سومة هاد الجبة؟ و كاين التوصيل لقسنطينة؟", "a3c9e1f0-5b2d-4c8e-9f7a-6d1b0e2c4a88"
    ),
    "socket__message_arabizi": said(
        "Salam khti, ch7al had l'sac? w kayen livraison l Annaba?", "5e8d2c71-0a4f-4b93-8e6d-c1f7a2b9d034"
    ),
    # Shift+Enter makes new lines: they are the customer's text.
    "socket__message_multiline": said(
        "Bonsoir 👋\nJe veux commander :\n- robe noire taille M\n- sac marron\nLivraison à Tizi Ouzou.",
        "c7a41e9b-2f6d-4a08-b3c5-8e90d1f2a7b6",
    ),
    # A quick reply button sends its label as the customer's text.
    "socket__message_quick_reply": said("Oui, je confirme ✅", "e2b7f4d9-6c3a-4e1f-8a05-3d9c7b1e6f42"),
    # The script catches up after the last message it received, when an answer is late.
    "socket__history": {"answers": [{"type": "history", "messages": []}], "history_after": [1842]},
    "socket__history_from_start": {"answers": [{"type": "history", "messages": []}], "history_after": [0]},
    "socket__ping": {"answers": [{"type": "pong"}]},
    "socket__malformed_not_json": refused("malformed", "The body is not JSON."),
    "socket__malformed_array": refused("malformed", "A frame is a JSON object."),
    # The widget shows the seller's typing; it never sends any.
    "socket__malformed_unknown_type": refused("unknown_type", "type must be message, history or ping."),
    "socket__malformed_no_type": refused("unknown_type", "type must be message, history or ping."),
    "socket__malformed_empty_text": refused("empty", "text must be a non-empty string."),
    "socket__malformed_text_not_string": refused("empty", "text must be a non-empty string."),
    "socket__malformed_text_too_long": refused("too_long", TOO_LONG),
    "socket__malformed_bad_client_id": refused("bad_client_id", "client_id must be a UUID."),
    "socket__malformed_missing_client_id": refused("bad_client_id", "client_id must be a UUID."),
    "socket__malformed_nul": refused("bad_text", BAD_TEXT),
    # Half an emoji (a textarea cut in the middle of a pair): JSON.stringify escapes it.
    "socket__malformed_lone_surrogate": refused("bad_text", BAD_TEXT),
    "socket__malformed_history_after": refused("bad_after", "after must be a message id (a whole number, 0 or more)."),
    "socket__malformed_nan": refused("malformed", "NaN is not a JSON number."),
    "http__send": posted(fixture("http__send")["body"]),
    "http__send_arabic": posted(fixture("http__send_arabic")["body"]),
    "http__history": {"status": 200, "body": {"messages": []}, "allow_origin": SITE, "history_after": [1842]},
    "http__history_from_start": {"status": 200, "body": {"messages": []}, "allow_origin": SITE, "history_after": [0]},
    # The browser asks before its JSON POST: the shop's site may send it.
    "http__preflight": {"status": 204, "body": None, "allow_origin": SITE},
    "http__malformed_not_json": http_refused(400, "malformed", "The body is not JSON."),
    # A final answer: the widget stops and forgets the visitor id.
    "http__malformed_bad_visitor": http_refused(400, "bad_visitor", "visitor must be a UUID."),
    "http__malformed_empty_text": http_refused(400, "empty", "text must be a non-empty string."),
    "http__malformed_bad_client_id": http_refused(400, "bad_client_id", "client_id must be a UUID."),
    # Arabic-Indic digits are digits to Python, not an id here.
    "http__malformed_history_after": http_refused(400, "bad_after", "after must be a message id (ASCII digits)."),
    # Final answers any page may read (they hold no data), so that the widget stops.
    "http__malformed_unknown_key": http_refused(404, "unknown_key", "No widget has this key."),
    "http__malformed_forbidden_origin": http_refused(
        403, "forbidden_origin", "This site may not use this widget.", allow_origin="https://copie-boutique.com"
    ),
}


@dataclass
class SellerSide:
    """What reached the seller's side: the messages stored and the histories read."""

    stored: list[InboundMessage] = field(default_factory=list)
    history_after: list[int] = field(default_factory=list)

    def ingest(self, inbound: InboundMessage) -> IngestResult:
        self.stored.append(inbound)
        return STORED

    def history(self, account: ChannelAccount, visitor: str, *, after: int) -> list[dict[str, Any]]:
        assert account is ACCOUNT and visitor == VISITOR
        self.history_after.append(after)
        return []


@pytest.fixture
def seller_side(monkeypatch: pytest.MonkeyPatch) -> SellerSide:
    side = SellerSide()
    calls: dict[Callable[..., Any], Callable[..., Any]] = {
        consumer_module.ingest: side.ingest,
        consumer_module.widget_history: side.history,
        consumer_module.channel_account_cached: lambda account_id: ACCOUNT if account_id == ACCOUNT.pk else None,
    }

    async def run_in_tenant(schema: str, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        assert schema == SCHEMA
        return calls[func](*args, **kwargs)

    def db_call(func: Callable[..., Any]) -> Callable[..., Any]:
        async def call(*args: Any, **kwargs: Any) -> Any:
            return calls[func](*args, **kwargs)

        return call

    monkeypatch.setattr(consumer_module, "run_in_tenant", run_in_tenant)
    monkeypatch.setattr(consumer_module, "db_call", db_call)
    monkeypatch.setattr(views_module, "ingest", side.ingest)
    monkeypatch.setattr(views_module, "widget_history", side.history)
    monkeypatch.setattr(views_module, "widget_account_for_key", lambda key: ACCOUNT if key == KEY else None)
    return side


def socket_exchange(item: dict[str, Any]) -> dict[str, Any]:
    """The frame through an open socket's `receive`: the frames it answers."""
    socket = WidgetConsumer()
    socket.scope = {"type": "websocket", "headers": [(b"origin", SITE.encode())], "client": (CUSTOMER_IP, 50412)}
    socket.account, socket.schema, socket.visitor = ACCOUNT, SCHEMA, VISITOR
    answers: list[dict[str, Any]] = []

    async def send(text_data: str | None = None, bytes_data: bytes | None = None, close: bool = False) -> None:
        assert text_data is not None and not close
        answers.append(json.loads(text_data))

    socket.send = send
    async_to_sync(socket.receive)(text_data=frame_text(item))
    return {"answers": answers}


def http_exchange(item: dict[str, Any]) -> dict[str, Any]:
    response = WidgetAPIView.as_view()(http_request(item, remote_addr=CUSTOMER_IP))
    response.render()
    return {
        "status": response.status_code,
        "body": json.loads(response.content) if response.content else None,
        "allow_origin": response.get("Access-Control-Allow-Origin"),
    }


def normalized(inbound: InboundMessage) -> dict[str, Any]:
    fields = {f.name: getattr(inbound, f.name) for f in dataclasses.fields(inbound)}
    stamped = fields.pop("timestamp")
    assert stamped.tzinfo is not None and abs(timezone.now() - stamped) < dt.timedelta(minutes=1)
    return {**fields, "raw": dict(fields["raw"]), "extra": dict(fields["extra"])}


@pytest.mark.parametrize("name", sorted(set(fixture_names()) | set(EXPECTED)))
def test_fixture(name: str, seller_side: SellerSide) -> None:
    assert name in EXPECTED, f"the fixture {name} has no expectation"
    assert name in fixture_names(), f"the expectation {name} has no fixture"
    item = fixture(name)
    expected = {"stored": [], "history_after": [], **EXPECTED[name]}
    if name.startswith("socket__"):
        got = socket_exchange(item)
    else:
        assert name.startswith("http__")
        got = http_exchange(item)
    got |= {
        "stored": [normalized(inbound) for inbound in seller_side.stored],
        "history_after": seller_side.history_after,
    }
    assert got == expected
