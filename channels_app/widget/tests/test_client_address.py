"""Per-address limits count the real client: X-Forwarded-For is believed only from a trusted
proxy (TRUSTED_PROXIES), and then its rightmost untrusted entry; a client's forged header is
never the address. Driven through the real ASGI application (ma5zani.asgi), HTTP and websocket."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from asgiref.sync import async_to_sync
from asgiref.testing import ApplicationCommunicator
from channels.testing import WebsocketCommunicator

from channels_app.widget.services import widget_account_ensure
from ma5zani.asgi import build_application
from ma5zani.testing import ROOT, committed_db

pytestmark = committed_db

VISITOR = "11111111-2222-4333-8444-555555555555"


@pytest.fixture
def key(drop_new_sellers, shop_a, monkeypatch, settings):
    monkeypatch.setattr("conversations.services.enqueueing.enqueue_reply", lambda *a, **k: None)
    settings.WIDGET_RATE_LIMIT_IP = "3/minute"
    settings.WIDGET_RATE_LIMIT_VISITOR = "1000/minute"
    return widget_account_ensure(shop_a.seller).external_id


def post(app, key: str, *, peer: str, forwarded: str | None = None, visitor: str = VISITOR) -> int:
    body = json.dumps({"key": key, "visitor": visitor, "client_id": str(uuid.uuid4()), "text": "Salam"}).encode()
    headers = [(b"host", b"localhost"), (b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    if forwarded is not None:
        headers.append((b"x-forwarded-for", forwarded.encode()))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/widget/v1/messages",
        "raw_path": b"/widget/v1/messages",
        "query_string": f"key={key}".encode(),
        "root_path": "",
        "headers": headers,
        "client": (peer, 40000),
        "server": ("127.0.0.1", 8000),
    }

    async def run() -> int:
        communicator = ApplicationCommunicator(app, scope)
        await communicator.send_input({"type": "http.request", "body": body, "more_body": False})
        start = await communicator.receive_output(timeout=30)
        await communicator.receive_output(timeout=30)  # the body
        await communicator.wait(timeout=30)  # the handler gives its connection back
        return int(start["status"])

    return async_to_sync(run)()


def test_direct_connections_are_counted_by_their_peer_whatever_they_forge(key):
    app = build_application([])  # no proxy in front: nobody's X-Forwarded-For is believed
    statuses = [post(app, key, peer="203.0.113.7", forwarded=f"198.51.100.{n}") for n in range(4)]
    assert statuses == [201, 201, 201, 429]
    # Another client is not limited by the first one's hits.
    assert post(app, key, peer="203.0.113.8", forwarded="203.0.113.7") == 201


def test_behind_a_trusted_proxy_the_rightmost_untrusted_address_is_the_client(key):
    app = build_application(["127.0.0.1", "10.0.0.0/8"])
    # The client forges a leftmost entry; the proxy appends the address it saw (198.51.100.9).
    statuses = [post(app, key, peer="127.0.0.1", forwarded=f"1.2.3.{n}, 198.51.100.9") for n in range(4)]
    assert statuses == [201, 201, 201, 429]
    # Through two trusted hops the client is still the last untrusted address.
    assert post(app, key, peer="127.0.0.1", forwarded="198.51.100.9, 10.1.2.3") == 429
    assert post(app, key, peer="127.0.0.1", forwarded="198.51.100.10, 10.1.2.3") == 201
    # An untrusted peer's header is ignored even when a proxy's is believed.
    assert post(app, key, peer="203.0.113.50", forwarded="198.51.100.11") == 201
    assert [post(app, key, peer="203.0.113.50", forwarded="198.51.100.11") for _ in range(3)][-1] == 429


def test_the_websocket_counts_the_same_address(key, settings):
    settings.WIDGET_RATE_LIMIT_IP = "2/minute"

    async def send_one(app, peer: str, forwarded: str) -> str:
        headers = [(b"host", b"localhost"), (b"x-forwarded-for", forwarded.encode())]
        communicator = WebsocketCommunicator(app, f"/ws/widget/?key={key}&visitor={uuid.uuid4()}", headers=headers)
        communicator.scope["client"] = (peer, 40000)
        connected, _ = await communicator.connect(timeout=30)
        assert connected
        await communicator.receive_json_from(timeout=30)  # history
        await communicator.send_json_to({"type": "message", "text": "Salam", "client_id": str(uuid.uuid4())})
        frame = await communicator.receive_json_from(timeout=30)
        await communicator.disconnect()
        return str(frame["type"] if frame["type"] == "ack" else frame["code"])

    # One connection per forged address, all from the same peer.
    direct = build_application([])
    kinds = [async_to_sync(send_one)(direct, "203.0.113.7", f"198.51.100.{n}") for n in range(3)]
    assert kinds == ["ack", "ack", "rate_limited"]
    proxied = build_application(["127.0.0.1"])
    kinds = [async_to_sync(send_one)(proxied, "127.0.0.1", f"6.6.6.{n}, 198.51.100.20") for n in range(3)]
    assert kinds == ["ack", "ack", "rate_limited"]


def test_no_process_line_lets_the_server_believe_forwarded_headers_itself():
    # daphne's --proxy-headers believes anyone's leftmost X-Forwarded-For: the application decides.
    for path in (ROOT / "Procfile", ROOT / "deploy" / "systemd" / "ma5zani-web.service"):
        assert "--proxy-headers" not in Path(path).read_text(), path
    nginx = (ROOT / "deploy" / "nginx" / "ma5zani.conf").read_text()
    assert "$proxy_add_x_forwarded_for" not in nginx  # the edge replaces a client's header
    # Every location that passes requests on sets the header itself.
    assert nginx.count("proxy_pass ") == nginx.count("proxy_set_header X-Forwarded-For $remote_addr;") == 3
