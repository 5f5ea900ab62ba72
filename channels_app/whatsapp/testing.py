"""A loopback WhatsApp client for tests and benchmarks (WhatsApp's servers cannot be reached
from them): it connects at once, emits the same neonize protobuf events as the real client
when asked to, and records what it sends in Redis (`<prefix>:fake:sent`) so that tests running
gateways in other processes can check what reached the "customer". Never used in production:
the gateway's command only takes it with --fake-clients.

With WA_FAKE_INBOX=1 a client also receives what customers write from another process
(`customer_write`): WhatsApp's side of a session is a Redis list per session, and a message is
acknowledged (`<prefix>:fake:acked`) once the gateway's handler returned, as whatsmeow sends its
receipt after its handlers. What a client took and never acknowledged (its gateway was killed)
comes again to the session's next client, as WhatsApp's server sends a device again what it
did not acknowledge.
"""

from __future__ import annotations

import json
import os
import threading
import time
from typing import Any

from channels_app.whatsapp import outbox
from channels_app.whatsapp.client import ClientError, SentMessage, SessionClient


def quick_gateway_env(lease_seconds: float) -> dict[str, str]:
    """The environment of gateway processes in tests: this run's Redis keys, short leases, and
    no human pacing of sends (typing, gaps, jitter, rate limits)."""
    from django.conf import settings

    return {
        "WHATSAPP_REDIS_PREFIX": settings.WHATSAPP_REDIS_PREFIX,
        "WHATSAPP_LEASE_SECONDS": str(lease_seconds),
        "WHATSAPP_TYPING_MIN_SECONDS": "0.05",
        "WHATSAPP_TYPING_MAX_SECONDS": "0.1",
        "WHATSAPP_CHAT_GAP_SECONDS": "0",
        "WHATSAPP_JITTER_SECONDS": "0",
        "WHATSAPP_RATE_PER_MINUTE": "10000/minute",
        "WHATSAPP_RATE_PER_CHAT": "10000/minute",
    }


def fake_key(name: str) -> str:
    from django.conf import settings

    return f"{settings.WHATSAPP_REDIS_PREFIX}:fake:{name}"


class FakeSessionClient(SessionClient):
    running: set[str] = set()
    lock = threading.Lock()

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._stopped = threading.Event()
        self._connected = False
        self.sent: list[tuple[str, str]] = []
        self.read: list[tuple[str, list[str]]] = []
        self.typing_calls: list[tuple[str, bool]] = []
        self.fail_sends = 0  # the next N sends fail
        self.logged_out = False
        self.downloads: dict[str, bytes] = {}
        self.send_seconds = float(os.environ.get("WA_FAKE_SEND_SECONDS", "0") or 0)
        self.connect_error = os.environ.get("WA_FAKE_CONNECT_ERROR", "")
        self.inbox = os.environ.get("WA_FAKE_INBOX", "") == "1"

    def run(self) -> None:
        if self.connect_error:
            raise ClientError(self.connect_error)
        r = outbox.client()
        # Two clients of one session at once (in this process, or in another live process) is
        # what the leases must prevent: it is recorded for the tests to find.
        previous = r.getset(fake_key(f"live:{self.session_key}"), str(os.getpid()))
        with self.lock:
            doubled = self.session_key in self.running
            self.running.add(self.session_key)
        if doubled or (previous and int(previous) != os.getpid() and _alive(int(previous))):
            r.rpush(fake_key("doubles"), self.session_key)
        try:
            self._serve()
        finally:
            with self.lock:
                self.running.discard(self.session_key)
            key = fake_key(f"live:{self.session_key}")
            if r.get(key) == str(os.getpid()):
                r.delete(key)

    def _serve(self) -> None:
        from neonize.proto.Neonize_pb2 import Connected

        if self.jid:
            self._connected = True
            self.on_event(Connected(status=True))
        else:
            self.on_qr(f"2@fake-qr-{self.session_key}-{time.time():.0f}")
        if self.inbox and self.jid:
            self._receive()
        self._stopped.wait()
        self._connected = False

    def _receive(self) -> None:
        """Customers' messages, one at a time, each acknowledged after the handler returned."""
        r = outbox.client()
        inbox, taken = fake_key(f"inbox:{self.session_key}"), fake_key(f"taken:{self.session_key}")
        while r.lmove(taken, inbox, "RIGHT", "LEFT"):  # left unacknowledged by a killed client
            pass
        while not self._stopped.is_set():
            raw = r.blmove(inbox, taken, 1, "LEFT", "RIGHT")
            if raw is None:
                continue
            raw = str(raw)
            item = json.loads(raw)
            self.on_event(message_event(chat=item["chat"], text=item["text"], message_id=item["id"]))
            if self._stopped.is_set():
                return  # disconnected meanwhile: no receipt, it comes again to the next client
            pipe = r.pipeline()
            pipe.lrem(taken, 1, raw)
            pipe.rpush(fake_key("acked"), raw)
            pipe.execute()

    def stop(self) -> None:
        self._stopped.set()

    def logout(self) -> None:
        self.logged_out = True

    def pair_phone(self, phone: str) -> str:
        return "ABCD-1234"

    def send_text(self, chat: str, text: str) -> SentMessage:
        r, pid = outbox.client(), str(os.getpid())
        r.hincrby(fake_key("sending"), pid, 1)  # sends under way, by process (see `sending`)
        try:
            if self.fail_sends > 0:
                self.fail_sends -= 1
                raise ClientError("SendMessageError: server returned error 479")
            message_id = "3EB0" + os.urandom(8).hex().upper()
            self.sent.append((chat, text))
            r.rpush(
                fake_key("sent"),
                json.dumps({"session": self.session_key, "chat": chat, "text": text, "id": message_id, "pid": pid}),
            )
            if self.send_seconds:  # the message is out; the server's answer takes this long
                time.sleep(self.send_seconds)
        finally:
            r.hincrby(fake_key("sending"), pid, -1)
        return SentMessage(id=message_id, timestamp=int(time.time()))

    def mark_read(self, chat: str, sender: str, message_ids: list[str]) -> None:
        self.read.append((chat, list(message_ids)))

    def typing(self, chat: str, *, on: bool) -> None:
        self.typing_calls.append((chat, on))

    def download(self, message: Any) -> bytes:
        return self.downloads.get("default", b"OggS fake voice note")

    def me(self) -> tuple[str, str, str]:
        return (self.jid, "", "Shop") if self.jid else ("", "", "")

    def phone_for_lid(self, lid: str) -> str:
        return ""

    @property
    def is_connected(self) -> bool:
        return self._connected


def customer_write(session_key: str, *, chat: str, text: str, message_id: str) -> None:
    """A customer writes to the seller's WhatsApp (`seller-<account id>`), whichever gateway
    holds the session now or later (WA_FAKE_INBOX=1 clients read it)."""
    payload = json.dumps({"chat": chat, "text": text, "id": message_id})
    outbox.client().rpush(fake_key(f"inbox:{session_key}"), payload)


def acknowledged() -> list[dict[str, str]]:
    """What the clients received and acknowledged, oldest first."""
    return [json.loads(raw) for raw in outbox.client().lrange(fake_key("acked"), 0, -1)]


def unacknowledged(session_key: str) -> int:
    """Customers' messages of a session not acknowledged yet (waiting, or taken by a client)."""
    r = outbox.client()
    return int(r.llen(fake_key(f"inbox:{session_key}"))) + int(r.llen(fake_key(f"taken:{session_key}")))


def sent_messages() -> list[dict[str, str]]:
    """What the clients sent, oldest first: {session, chat, text, id, pid (of the gateway)}."""
    return [json.loads(raw) for raw in outbox.client().lrange(fake_key("sent"), 0, -1)]


def sending(pid: int) -> int:
    """Sends under way in the gateway process `pid` (the text is not out yet)."""
    return int(outbox.client().hget(fake_key("sending"), str(pid)) or 0)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# --- Events in neonize's own protobuf classes ---------------------------------------------------


def jid(value: str) -> Any:
    from channels_app.whatsapp.client import parse_jid

    return parse_jid(value)


def message_event(
    *,
    chat: str,
    text: str = "",
    message_id: str | None = None,
    sender: str | None = None,
    sender_alt: str = "",
    from_me: bool = False,
    push_name: str = "Amine",
    content: Any = None,
    extended: bool = False,
    mentions: tuple[str, ...] = (),
    timestamp: int | None = None,
) -> Any:
    """A neonize MessageEv as whatsmeow delivers it."""
    from neonize.proto.Neonize_pb2 import Message as MessageEv
    from neonize.proto.Neonize_pb2 import MessageInfo, MessageSource
    from neonize.proto.waE2E.WAWebProtobufsE2E_pb2 import ContextInfo, ExtendedTextMessage
    from neonize.proto.waE2E.WAWebProtobufsE2E_pb2 import Message as WaMessage

    if content is None:
        if extended or mentions:
            content = WaMessage(
                extendedTextMessage=ExtendedTextMessage(text=text, contextInfo=ContextInfo(mentionedJID=list(mentions)))
            )
        else:
            content = WaMessage(conversation=text)
    source = MessageSource(
        Chat=jid(chat),
        Sender=jid(sender or chat),
        IsFromMe=from_me,
        IsGroup=chat.endswith("@g.us"),
    )
    if sender_alt:
        source.SenderAlt.CopyFrom(jid(sender_alt))
    info = MessageInfo(
        MessageSource=source,
        ID=message_id or ("3A" + os.urandom(8).hex().upper()),
        Pushname=push_name,
        Timestamp=timestamp or int(time.time()),
        Type="text" if content.conversation or content.HasField("extendedTextMessage") else "media",
    )
    return MessageEv(Info=info, Message=content)


def voice_note(seconds: int = 4) -> Any:
    from neonize.proto.waE2E.WAWebProtobufsE2E_pb2 import AudioMessage
    from neonize.proto.waE2E.WAWebProtobufsE2E_pb2 import Message as WaMessage

    return WaMessage(
        audioMessage=AudioMessage(
            mimetype="audio/ogg; codecs=opus", seconds=seconds, PTT=True, fileLength=2048, directPath="/v/t62/x"
        )
    )


def image(caption: str = "") -> Any:
    from neonize.proto.waE2E.WAWebProtobufsE2E_pb2 import ImageMessage
    from neonize.proto.waE2E.WAWebProtobufsE2E_pb2 import Message as WaMessage

    return WaMessage(imageMessage=ImageMessage(mimetype="image/jpeg", caption=caption, fileLength=4096))


def receipt_event(*, chat: str, message_ids: list[str], kind: int) -> Any:
    from neonize.proto.Neonize_pb2 import MessageSource, Receipt

    return Receipt(
        MessageSource=MessageSource(Chat=jid(chat), Sender=jid(chat)),
        MessageIDs=message_ids,
        Timestamp=int(time.time()),
        Type=kind,
    )
